"""A lock file that names its holder: ``fcntl.flock`` on a file holding the holder's pid.

A leaf module (standard library only) so every room that runs one-per-home
processes — the collector, ``orca up`` — locks the same way. ``flock`` is
released by the kernel when its holder dies (even by SIGKILL), so a crash
never leaves a stale lock; the pid inside is for people and status pages.
"""

import fcntl
import os
import time
from pathlib import Path


class LockHeld(Exception):
    """The lock is held by another process (``pid`` when it wrote one)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(f"{path} is held by pid {pid or 'unknown'}")


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 32, 0).strip()
        return int(raw) if raw else None
    except (OSError, ValueError):
        return None


class PidLock:
    """Held from construction until :meth:`release` (or process death); raises :class:`LockHeld`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        for attempt in range(3):  # holder() takes a brief shared lock: retry past it
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == 2:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise LockHeld(path, pid) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing drops the flock


def holder(path: Path) -> int | None:
    """The pid holding the lock at ``path`` (0 when unknown), or None when it is free."""
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
