"""Sealing and opening the segments of one blob: one segment in memory at a time.

:class:`SegmentWriter` takes a compressed stream in any pieces and writes
``chunk_size`` segments; :class:`SegmentSource` reads them back as a raw
stream of compressed bytes, authenticating each segment before any of its
bytes leave, and names what went wrong when one fails.
"""

import io
from collections.abc import Iterator
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orca.blobs._errors import BlobIntegrityError, Problem
from orca.blobs._format import LENGTH, TAG_BYTES, nonce

MAX_DIAGNOSE: Final = 4096  # segments tried when naming a failed one (failure path only)


class SegmentWriter:
    """Cuts a compressed stream into sealed segments; :meth:`finish` seals the last one."""

    def __init__(self, f: BinaryIO, key: bytes, aad: bytes, chunk_size: int) -> None:
        self._f = f
        self._aead = AESGCM(key)
        self._aad = aad
        self._chunk = chunk_size
        self._buf = bytearray()
        self._n = 0

    def write(self, data: bytes) -> None:
        self._buf += data
        cs = self._chunk
        if len(self._buf) <= cs:
            return
        view = memoryview(self._buf)
        at = 0
        # Keep at least one byte back: the last segment is only known at finish().
        while len(self._buf) - at > cs:
            self._seal(view[at : at + cs], last=False)
            at += cs
        view.release()
        del self._buf[:at]

    def _seal(self, chunk: bytes | memoryview, last: bool) -> None:
        sealed = self._aead.encrypt(nonce(self._n, last), bytes(chunk), self._aad)
        self._f.write(LENGTH.pack(len(sealed)))
        self._f.write(sealed)
        self._n += 1

    def finish(self) -> None:
        self._seal(bytes(self._buf), last=True)
        self._buf.clear()


class SegmentSource(io.RawIOBase):
    """The authenticated compressed bytes of a blob, after its header, as a raw stream."""

    def __init__(
        self,
        f: BinaryIO,
        key: bytes,
        aad: bytes,
        chunk_size: int,
        *,
        name: str,
        file_size: int,
    ) -> None:
        super().__init__()
        self._f = f
        self._aead = AESGCM(key)
        self._aad = aad
        self._chunk = chunk_size
        self._name = name
        self._file_size = file_size
        self._i = 0
        self._done = False
        self._pt = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()

    def _fail(self, problem: Problem, detail: str) -> BlobIntegrityError:
        return BlobIntegrityError(self._name, problem, detail)

    def segments(self) -> Iterator[bytes]:
        """Each segment's authenticated bytes, in order (for re-sealing without decompressing)."""
        while True:
            chunk = self._next()
            if chunk is None:
                return
            yield chunk

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._pt):
            chunk = self._next()
            if chunk is None:
                return 0
            self._pt, self._pos = chunk, 0
        n = min(len(b), len(self._pt) - self._pos)
        b[:n] = self._pt[self._pos : self._pos + n]
        self._pos += n
        return n

    def _next(self) -> bytes | None:
        if self._done:
            return None
        i = self._i
        raw = self._f.read(LENGTH.size)
        if len(raw) < LENGTH.size:
            where = f"inside the length of segment {i}" if raw else f"after segment {i - 1}"
            raise self._fail("truncated", f"the file ends {where}, before the last segment")
        (n,) = LENGTH.unpack(raw)
        if not TAG_BYTES <= n <= self._chunk + TAG_BYTES:
            raise self._fail(
                "tampered",
                f"segment {i} claims {n} bytes; a segment holds at most {self._chunk + TAG_BYTES}",
            )
        sealed = self._f.read(n)
        if len(sealed) < n:
            raise self._fail("truncated", f"segment {i} is cut short ({len(sealed)} of {n} bytes)")
        for last in (False, True):
            try:
                plain = self._aead.decrypt(nonce(i, last), sealed, self._aad)
            except InvalidTag:
                continue
            break
        else:
            raise self._diagnose(i, sealed)
        self._i += 1
        if last:
            self._done = True
            if self._f.read(1):
                raise self._fail("tampered", f"bytes follow the last segment ({i})")
        elif n != self._chunk + TAG_BYTES:
            raise self._fail("tampered", f"segment {i} is short ({n} bytes) but not the last")
        return plain

    def _diagnose(self, i: int, sealed: bytes) -> BlobIntegrityError:
        """A segment failed: if it opens under another position it was moved, else altered."""
        count = min(self._file_size // (self._chunk + TAG_BYTES) + 2, MAX_DIAGNOSE)
        for j in range(count):
            if j == i:
                continue
            for last in (False, True):
                try:
                    self._aead.decrypt(nonce(j, last), sealed, self._aad)
                except InvalidTag:
                    continue
                return self._fail("reordered", f"position {i} holds segment {j}")
        return self._fail("tampered", f"segment {i} fails authentication")
