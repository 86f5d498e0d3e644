"""Segment files: naming and discovery.

One writer process owns its segments; the name alone says which process and
which of its segments, so a collector can sort and attribute them without
opening them: ``<pid>-<start_ns>-<seq>.ndjson``.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SUFFIX: Final = ".ndjson"
_NAME: Final = re.compile(r"^(\d+)-(\d+)-(\d+)\.ndjson$")


@dataclass(frozen=True, order=True)
class SegmentName:
    """The parsed name of one journal segment."""

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
    def parse(cls, name: str) -> "SegmentName | None":
        m = _NAME.match(name)
        if m is None:
            return None
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def list_segments(journal_dir: Path) -> list[tuple[SegmentName, Path]]:
    """Every segment under ``journal_dir``, oldest writer first, in segment order."""
    try:
        entries = list(journal_dir.iterdir())
    except FileNotFoundError:
        return []
    found = []
    for path in entries:
        name = SegmentName.parse(path.name)
        if name is not None:
            found.append((name, path))
    found.sort(key=lambda item: (item[0].start_ns, item[0].pid, item[0].seq))
    return found
