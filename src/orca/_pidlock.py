"""The home lock: ``fcntl.flock`` on a file that names its holder's pid.

One leaf module (standard library only) for every role a home has at most one
of: the collector (``collector.lock``), ``orca up`` (``server.lock``) and the
ledger's appender (``ledger/lock``). The capture path imports it to ask "is a
collector running?" without loading the store, so the lock file names live
here and nowhere else.

``flock`` is released by the kernel when its holder dies (even by SIGKILL), so
a crash never leaves a stale lock; the pid inside is for people, status pages
and error messages. Probes take a *shared* lock for an instant: two probes
never mistake each other for a holder, and the exclusive holder's acquire
retries past a probe's instant.
"""

import fcntl
import os
import time
from pathlib import Path
from typing import Final

COLLECTOR_LOCK: Final = "collector.lock"  # <home>/collector.lock
SERVER_LOCK: Final = "server.lock"  # <home>/server.lock
LEDGER_LOCK: Final = "lock"  # <home>/ledger/lock
_ACQUIRE_TRIES: Final = 3  # a probe holds its shared lock for microseconds: retry past it
_RETRY_S: Final = 0.05
_PID_BYTES: Final = 32
_NOTE_MARGIN: Final = 64  # room a note leaves for the pid line


class LockHeld(Exception):
    """The lock is held by another process; ``pid`` when it wrote one (0 or None: unknown).

    Never escapes a room: each role turns it into its own error
    (``CollectorLocked``, ``ServerLocked``, ``LedgerLocked``) naming the pid.
    """

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(f"{path} is held by pid {pid or 'unknown'}")


def _flags() -> int:
    return getattr(os, "O_CLOEXEC", 0)


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, _PID_BYTES, 0).split(b"\n", 1)[0].strip()
        return int(raw) if raw else None
    except (OSError, ValueError):
        return None


class PidLock:
    """An exclusive lock held from construction until :meth:`release` (or process death).

    Raises :class:`LockHeld` when another process holds it. ``note_bytes`` > 0
    makes the file that long from the start, so :meth:`note` (a status line
    after the pid, read by :func:`read_note`) is written over bytes the file
    already holds and works on a full disk.
    """

    def __init__(self, path: Path, *, note_bytes: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._note_bytes = note_bytes
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _flags(), 0o644)
        for attempt in range(_ACQUIRE_TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _ACQUIRE_TRIES - 1:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise LockHeld(path, pid) from None
                time.sleep(_RETRY_S)
        self._pid_line = f"{os.getpid()}\n".encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._padded(self._pid_line), 0)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def _padded(self, line: bytes) -> bytes:
        if self._note_bytes <= 0:
            return line
        return line.ljust(self._note_bytes - 1) + b"\n"

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd >= 0

    def note(self, text: str | None) -> None:
        """Say (or clear with None) what the holder is doing; never raises (a full disk is fine)."""
        if self._fd < 0 or self._note_bytes <= 0:
            return
        line = self._pid_line + (text or "").encode()[: max(0, self._note_bytes - _NOTE_MARGIN)]
        try:
            os.pwrite(self._fd, self._padded(line), 0)
        except OSError:
            pass

    def release(self) -> None:
        """Drop the lock (and the pid in the file); a second call does nothing."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing drops the flock

    def __enter__(self) -> "PidLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: Path) -> int | None:
    """The pid holding the lock at ``path`` (0 when it wrote none yet), or None when free."""
    try:
        fd = os.open(path, os.O_RDONLY | _flags())
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


def read_note(path: Path) -> str | None:
    """What the holder last said with :meth:`PidLock.note` (None when nothing, or no file)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    parts = raw.split(b"\n", 1)
    text = parts[1].strip().decode("utf-8", "replace") if len(parts) == 2 else ""
    return text or None
