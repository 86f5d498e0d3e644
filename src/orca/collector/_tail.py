"""Tailing journal segments into a batch, from each segment's committed offset.

A source is anything the collector tails into the store: the journal here,
and the ledger (``<home>/ledger/`` into the ``ledger`` table, see
``_ledger_source``) behind the same method.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from orca.journal import JournalReader, SegmentName, list_segments
from orca.records import RecordError, loads
from orca.store import Batch, Item, Quarantine

MAX_LINE_BYTES: Final = 48 * 1024 * 1024  # above the sink's 32 MiB records; longer: quarantined


@dataclass(slots=True)
class SegmentState:
    """What the collector knows about one segment after its last read."""

    name: SegmentName
    path: Path
    size: int = 0
    offset: int = 0
    pending: int = 0  # bytes after offset that are not a whole line (a torn tail, so far)
    drained: bool = False  # the last read reached the end of the file


class Source(Protocol):
    """Something the collector tails into the store, batch by batch."""

    def read(self, offsets: dict[str, int], batch: Batch, limit: int, deadline: float) -> int:
        """Add up to ``limit`` records (stop at ``deadline``, a monotonic time); return how many."""
        ...


@dataclass
class JournalSource:
    """Every segment under ``<home>/journal``, oldest writer first."""

    journal_dir: Path
    max_line_bytes: int = MAX_LINE_BYTES
    segments: dict[str, SegmentState] = field(default_factory=dict)

    def scan(self) -> list[SegmentState]:
        """Refresh the segment list and sizes from the directory."""
        seen: dict[str, SegmentState] = {}
        for name, path in list_segments(self.journal_dir):
            state = self.segments.get(path.name) or SegmentState(name, path)
            try:
                state.size = os.stat(path).st_size
            except FileNotFoundError:
                continue
            seen[path.name] = state
        self.segments = seen
        return list(seen.values())

    def read(self, offsets: dict[str, int], batch: Batch, limit: int, deadline: float) -> int:
        count = 0
        for seg in self.scan():
            key = seg.path.name
            committed = offsets.get(key, 0)
            seg.offset = committed
            if seg.size < committed:
                # Shrunk under us: what was ingested stays; say so, continue from the new end.
                batch.quarantined.append(
                    Quarantine(
                        key,
                        committed,
                        0,
                        f"segment truncated from {committed} to {seg.size} bytes after ingest",
                        b"",
                    )
                )
                batch.offsets[key] = batch.resets[key] = seg.offset = seg.size
                seg.pending, seg.drained = 0, True
                continue
            if seg.size == committed:
                seg.pending, seg.drained = 0, True
                continue
            if count >= limit or time.monotonic() >= deadline:
                seg.drained = False
                continue
            count += self._read_segment(seg, batch, limit - count)
        return count

    def _read_segment(self, seg: SegmentState, batch: Batch, limit: int) -> int:
        key = seg.path.name
        count = 0
        try:
            f = seg.path.open("rb")
        except FileNotFoundError:
            return 0
        with f:
            reader = JournalReader(f, seg.offset, max_line_bytes=self.max_line_bytes)
            items = batch.items
            for line in reader.lines(max_lines=limit):
                if line.oversize:
                    reason = f"line longer than {self.max_line_bytes} bytes"
                else:
                    try:
                        items.append(Item(loads(line.data), key, line.offset))  # type: ignore[arg-type]
                        count += 1
                        continue
                    except RecordError as exc:
                        reason = str(exc)
                batch.quarantined.append(
                    Quarantine(key, line.offset, line.end - line.offset, reason, line.data[:200])
                )
            seg.offset = reader.offset
            seg.pending = reader.pending
            seg.drained = seg.offset + seg.pending >= seg.size and count < limit
        if seg.offset != batch.offsets.get(key, -1):
            batch.offsets[key] = seg.offset
        return count
