"""The home's collector lock: ``fcntl.flock`` on ``<home>/collector.lock`` holding the pid.

``flock`` is released by the kernel when its holder dies (even by SIGKILL), so
a crashed collector never leaves a stale lock behind; the pid inside is only
for people and ``orca status``. Kept free of heavy imports: the capture side
(``Recorder.open(collector="auto")``) asks :func:`lock_holder` before starting one.
"""

import fcntl
import os
import time
from pathlib import Path
from typing import Final

from orca.collector._errors import CollectorLocked

LOCK_FILE: Final = "collector.lock"
STATUS_BYTES: Final = 512  # the file is this long from the start: a status fits on a full disk


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 32, 0).split(b"\n", 1)[0].strip()
        return int(raw) if raw else None
    except (OSError, ValueError):
        return None


class CollectorLock:
    """Held while a collector runs; :meth:`release` (or process death) frees it."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / LOCK_FILE
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        for attempt in range(3):  # lock_holder() takes a brief shared lock: retry past it
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == 2:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise CollectorLocked(str(self.path), pid) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        self._pid_line = f"{os.getpid()}\n".encode()
        os.pwrite(fd, self._pid_line.ljust(STATUS_BYTES - 1) + b"\n", 0)
        self._fd = fd

    def set_status(self, text: str | None) -> None:
        """Say (or clear) why the collector is not making progress, for ``orca status``.

        Written over bytes the file already holds, so it works when the disk is full.
        """
        if self._fd < 0:
            return
        line = self._pid_line + (text or "").encode()[: STATUS_BYTES - 64]
        try:
            os.pwrite(self._fd, line.ljust(STATUS_BYTES - 1) + b"\n", 0)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing drops the flock


def lock_status(home: Path) -> str | None:
    """What the running collector says about itself (``paused: …``), or None."""
    try:
        raw = (home / LOCK_FILE).read_bytes()
    except OSError:
        return None
    parts = raw.split(b"\n", 1)
    text = parts[1].strip().decode("utf-8", "replace") if len(parts) == 2 else ""
    return text or None


def lock_holder(home: Path) -> int | None:
    """The pid of the collector holding ``home``'s lock (0 when unknown), or None when free."""
    path = home / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
