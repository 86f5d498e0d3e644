"""The home's collector lock: the home lock (:mod:`orca._pidlock`) on ``<home>/collector.lock``.

A thin role over the shared lock: it turns "held" into :class:`CollectorLocked`
naming the pid, and leaves room in the file for a status line that ``orca
status`` shows (why the collector is paused). The capture side asks the same
lock through ``orca._pidlock`` directly, so it never imports this room.
"""

from pathlib import Path
from typing import Final

from orca._pidlock import COLLECTOR_LOCK, LockHeld, PidLock, holder, read_note
from orca.collector._errors import CollectorLocked

LOCK_FILE: Final = COLLECTOR_LOCK  # the lock file's name under the home: one collector per home
STATUS_BYTES: Final = 512  # the file is this long from the start: a status fits on a full disk


class CollectorLock:
    """Held while a collector runs; :meth:`release` (or process death) frees it."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        try:
            self._lock = PidLock(self.path, note_bytes=STATUS_BYTES)
        except LockHeld as exc:
            raise CollectorLocked(str(self.path), exc.pid) from None

    def set_status(self, text: str | None) -> None:
        """Say (or clear) why the collector is not making progress, for ``orca status``."""
        self._lock.note(text)

    def release(self) -> None:
        self._lock.release()


def lock_status(home: Path) -> str | None:
    """What the running collector says about itself (``paused: …``), or None."""
    return read_note(home / LOCK_FILE)


def lock_holder(home: Path) -> int | None:
    """The pid of the collector holding ``home``'s lock (0 when unknown), or None when free."""
    return holder(home / LOCK_FILE)
