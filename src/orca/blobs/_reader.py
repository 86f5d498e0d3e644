"""Reading a blob as a stream: decrypt, decompress, count and hash, with bounded memory.

The caller asks for ``n`` bytes and gets at most ``n``: zstd's stream reader
pulls one authenticated segment at a time from :class:`SegmentSource`, so a
1 GB blob never costs more than a segment, zstd's window and the caller's
buffer. At the end the plaintext's size and sha256 must match the address;
if the output would run past the recorded size, reading stops right there.
"""

import hashlib
import io
from typing import IO, BinaryIO, cast

import zstandard

from orca.blobs._errors import BlobIntegrityError, Problem
from orca.blobs._segments import SegmentSource


class BlobReader(io.RawIOBase):
    """A blob's plaintext; raises :class:`BlobIntegrityError` the moment a check fails."""

    def __init__(self, source: SegmentSource, *, sha256: str, size: int, chunk_size: int) -> None:
        super().__init__()
        self._src = source
        self._z = zstandard.ZstdDecompressor().stream_reader(
            cast(IO[bytes], source), read_size=chunk_size, read_across_frames=False, closefd=False
        )
        self._sha = sha256
        self._size = size
        self._hash = hashlib.sha256()
        self._seen = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def _fail(self, problem: Problem, detail: str) -> BlobIntegrityError:
        return BlobIntegrityError(self._sha, problem, detail)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._ended:
            return 0
        want = memoryview(b).cast("B")
        room = self._size - self._seen + 1  # one byte past the size is enough to see excess
        if len(want) > room:
            want = want[:room]
        try:
            n = self._z.readinto(want)
        except zstandard.ZstdError as exc:
            raise self._fail("tampered", f"authenticated bytes do not decompress ({exc})") from None
        if n == 0:
            self._finish()
            return 0
        self._seen += n
        if self._seen > self._size:
            raise self._fail("size", f"decompresses past the recorded {self._size} bytes")
        self._hash.update(want[:n])
        return n

    def _finish(self) -> None:
        self._ended = True
        if self._src.read(1):
            raise self._fail("tampered", "bytes follow the end of the compressed stream")
        if self._seen != self._size:
            raise self._fail("size", f"holds {self._seen} bytes, the header says {self._size}")
        if self._hash.hexdigest() != self._sha:
            raise self._fail("digest", "the plaintext's sha256 is not the blob's address")

    def close(self) -> None:
        if not self.closed:
            self._z.close()  # type: ignore[no-untyped-call]
            self._src.close()
        super().close()


def buffered(raw: BlobReader, size: int) -> BinaryIO:
    """The reader callers get: buffered, a context manager, ``read(n)`` never more than n."""
    return io.BufferedReader(raw, buffer_size=size)
