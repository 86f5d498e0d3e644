"""Journal reclaim: when a fully stored segment may be deleted.

The journal is the queue, not the archive: once every record of a segment is
in the store (its committed offset reaches the file's size) the file only
costs disk (as much again as the store, measured on ``bench/storage.py``). So
a segment whose writer exited cleanly goes after a short grace (default 10
minutes: time for a person to look at a just-finished run with ``orca
journal``), while a crashed writer's segment is kept for a day, for
inspecting the torn tail and what led to it.

Deleting is safe against a collector killed at any point: the offsets are
committed with the records (one transaction), the file is removed only after
that, and the store then notes the deletion. Killed before the removal, the
next collector finds the offset at the end of the file and reads nothing;
killed after it, there is no file left to read.
"""

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from orca.collector._ledger_source import LEDGER_SOURCE
from orca.collector._tail import SegmentState
from orca.store import ProcessRow, TraceStore

# How long a fully stored segment stays after its writer exited cleanly, then after a crash.
DEFAULT_JOURNAL_GRACE: Final = timedelta(minutes=10)  # time to look at a just-finished run
DEFAULT_JOURNAL_RETENTION: Final = timedelta(days=1)  # time to inspect a crash's torn tail


def exited_cleanly(proc: ProcessRow | None) -> bool:
    return proc is not None and proc.exited_ns is not None and proc.crashed_ns is None


def due(
    *,
    size: int,
    committed: int,
    mtime_s: float,
    proc: ProcessRow | None,
    grace: timedelta | None,
    crashed: timedelta | None,
) -> float | None:
    """When (Unix seconds) a settled writer's segment may go; None: not (yet) fully stored,
    or kept forever (``grace`` for a writer that exited cleanly, ``crashed`` otherwise)."""
    if committed < size:
        return None
    keep = grace if exited_cleanly(proc) else crashed
    return None if keep is None else mtime_s + keep.total_seconds()


@dataclass(frozen=True, slots=True)
class Settled:
    """What the collector knows of its segments: committed offsets, writers gone for good."""

    offsets: dict[str, int]  # segment file name -> first byte not yet stored
    writers: set[str]  # writers that exited or were declared crashed


def delete_due_segments(
    store: TraceStore,
    segments: MutableMapping[str, SegmentState],
    settled: Settled,
    journal_dir: Path,
    *,
    grace: timedelta | None,
    crashed: timedelta | None,
    now_ns: int,
) -> list[str]:
    """Delete the segments of settled writers that are fully stored and due; their names.

    ``segments`` (the collector's open sources) loses each deleted one; the store
    notes every deletion after the file is gone.
    """
    procs = {p.writer: p for p in store.processes()}
    deleted: list[str] = []
    for seg in list(segments.values()):
        name = seg.path.name
        if seg.name.writer not in settled.writers:
            continue
        try:
            st = seg.path.stat()
        except FileNotFoundError:
            pass  # removed already (a collector killed before it noted that)
        else:
            when = due(
                size=st.st_size,
                committed=settled.offsets.get(name, 0),
                mtime_s=st.st_mtime,
                proc=procs.get(seg.name.writer),
                grace=grace,
                crashed=crashed,
            )
            if when is None or when > now_ns / 1e9:
                continue
            seg.path.unlink(missing_ok=True)
        store.mark_source_deleted(name, now_ns)
        segments.pop(name, None)
        deleted.append(name)
    # A collector killed between removing a file and noting it left a row behind.
    for source in store.sources():
        name = source.name
        if source.deleted_ns is not None or name in segments:
            continue
        if name != LEDGER_SOURCE and not (journal_dir / name).exists():
            store.mark_source_deleted(name, now_ns)
    return deleted
