"""The home's collector lock: a pid lock (``orca._pidlock``) on ``<home>/collector.lock``.

Kept free of heavy imports: the capture side (``Recorder.open(collector="auto")``)
asks :func:`lock_holder` before starting one.
"""

from pathlib import Path
from typing import Final

from orca._pidlock import LockHeld, PidLock, holder
from orca.collector._errors import CollectorLocked

LOCK_FILE: Final = "collector.lock"


class CollectorLock:
    """Held while a collector runs; :meth:`release` (or process death) frees it."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        try:
            self._lock = PidLock(self.path)
        except LockHeld as exc:
            raise CollectorLocked(str(self.path), exc.pid) from None

    def release(self) -> None:
        self._lock.release()


def lock_holder(home: Path) -> int | None:
    """The pid of the collector holding ``home``'s lock (0 when unknown), or None when free."""
    return holder(home / LOCK_FILE)
