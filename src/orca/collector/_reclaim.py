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

from datetime import timedelta
from typing import Final

from orca.store import ProcessRow

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
