"""Segment files: naming and discovery.

One writer process owns its segments; the name alone says which process and
which of its segments, so a collector can sort and attribute them without
opening them: ``<pid>-<start_ns>-<seq>.ndjson``. A ``NamedTuple`` and plain
string parsing keep this importable on the capture path without ``re`` or
``dataclasses``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path

SUFFIX: Final = ".ndjson"


class SegmentName(NamedTuple):
    """The parsed name of one journal segment (ordered by pid, start, seq as a tuple)."""

    pid: int
    start_ns: int
    seq: int

    @property
    def filename(self) -> str:
        return f"{self.pid}-{self.start_ns}-{self.seq:06d}{SUFFIX}"

    @property
    def writer(self) -> str:
        """Identity of the writing process instance (pid reuse gets a new start)."""
        return f"{self.pid}-{self.start_ns}"

    @classmethod
    def parse(cls, name: str) -> SegmentName | None:
        if not name.endswith(SUFFIX):
            return None
        parts = name[: -len(SUFFIX)].split("-")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))


def list_segments(journal_dir: Path) -> list[tuple[SegmentName, Path]]:
    """Every segment under ``journal_dir``, oldest writer first, in segment order."""
    try:
        names = os.listdir(journal_dir)
    except FileNotFoundError:
        return []
    found = []
    for entry in names:
        name = SegmentName.parse(entry)
        if name is not None:
            found.append((name, journal_dir / entry))
    found.sort(key=lambda item: (item[0].start_ns, item[0].pid, item[0].seq))
    return found
