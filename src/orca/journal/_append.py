"""An append-only file descriptor, plain or durable.

Plain mode is what the fail-safe sink builds on: one ``os.write`` per record on
an ``O_APPEND`` descriptor, so every byte written sits in the OS page cache and
survives the death of the process. Durable mode adds ``fsync`` and raises, for
the ledger, where an acknowledged entry must be on disk.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

from orca.journal._errors import DurableWriteError

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a directory entry (a new or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AppendFile:
    """One file opened for appending.

    ``durable=True``: :meth:`append` and :meth:`append_many` return only once the
    bytes are fsync'd, and raise :class:`DurableWriteError` when they are not.
    ``durable=False``: no fsync; errors still raise (the sink decides to swallow).
    """

    def __init__(self, path: Path | str, *, durable: bool = False, mode: int = 0o644) -> None:
        self.path = path
        self.durable = durable
        existed = os.path.exists(path)
        try:
            self.fd = os.open(path, _FLAGS, mode)
        except OSError as exc:
            raise DurableWriteError(str(path), "open", exc) from None
        if durable and not existed:
            fsync_dir(os.path.dirname(os.path.abspath(path)))

    def append(self, data: bytes) -> None:
        """Append ``data`` whole (retrying short writes); fsync when durable."""
        try:
            written = os.write(self.fd, data)
            while written < len(data):  # only on a nearly full disk or a signal
                written += os.write(self.fd, data[written:])
            if self.durable:
                os.fsync(self.fd)
        except OSError as exc:
            raise DurableWriteError(str(self.path), "append", exc) from None

    def append_many(self, chunks: Sequence[bytes]) -> None:
        """Append several records with one write and (when durable) one fsync: group commit."""
        self.append(b"".join(chunks))

    def sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise DurableWriteError(str(self.path), "fsync", exc) from None

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __enter__(self) -> AppendFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
