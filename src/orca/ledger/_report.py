"""What verification reports, and the plumbing its pass reads with.

Kept apart from the checks themselves so the report types can be imported
(by the CLI, by tests) without the verification machinery.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from orca._pidlock import LEDGER_LOCK, holder

# What a verification Problem can be (exported as ``orca.ledger.PROBLEM_KINDS``).
KINDS: Final = (
    "modified",
    "gap",
    "reordered",
    "truncated-after-checkpoint",
    "bad-signature",
    "unknown-key",
    "torn-tail",
)
MAX_PROBLEMS: Final = 1000
_READ: Final = 8 << 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not hold, at one entry id (or None for file-level trouble)."""

    kind: str
    entry: int | None
    detail: str
    file: str
    offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entry": self.entry,
            "detail": self.detail,
            "file": self.file,
            "offset": self.offset,
        }

    def line(self) -> str:
        where = f"entry {self.entry}" if self.entry is not None else self.file
        at = f" ({self.file} @ {self.offset})" if self.offset is not None else ""
        return f"{self.kind}: {where}: {self.detail}{at}"


@dataclass(slots=True)
class Report:
    """The outcome of :func:`verify`. ``ok`` only when no problem was found."""

    entries: int = 0
    last_id: int = 0
    batches: int = 0
    signatures: int = 0
    checkpoints: int = 0
    erased: int = 0
    writer_live: bool = False
    pending_tail: bool = False
    keys: list[str] = field(default_factory=list)
    repaired: list[int] = field(default_factory=list)  # ids of `ledger.repaired` entries
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "last_id": self.last_id,
            "batches": self.batches,
            "signatures": self.signatures,
            "checkpoints": self.checkpoints,
            "erased": self.erased,
            "writer_live": self.writer_live,
            "pending_tail": self.pending_tail,
            "keys": self.keys,
            "repaired": self.repaired,
            "problems": [p.to_dict() for p in self.problems],
            "more_problems": self.more_problems,
        }


def writer_live(ledger_dir: Path) -> bool:
    """True when some process holds the ledger open for appending right now."""
    return holder(ledger_dir / LEDGER_LOCK) is not None


class Lines:
    """Whole lines with their offsets, read in big chunks (the verify pass's hot loop).

    After iteration ``offset`` is the end of the last whole line and
    ``pending`` the count of bytes after it (a torn tail).
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.offset = 0
        self.pending = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        rest = b""
        pos = 0  # file offset of rest[0]
        # Never ask for more than the file holds: read(8 MiB) allocates 8 MiB even for 2 KiB.
        size = os.fstat(self._f.fileno()).st_size
        while chunk := self._f.read(min(_READ, max(size - pos - len(rest), 0) + 65536)):
            buf = rest + chunk if rest else chunk
            parts = buf.split(b"\n")
            rest = parts.pop()
            for data in parts:
                yield pos, data
                pos += len(data) + 1
            self.offset = pos
        self.pending = len(rest)
