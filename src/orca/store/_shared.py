"""Pure-Python pieces both engines share (SQLite's ``_sqlite``/``_read``, PostgreSQL's ``_pg*``).

Only what is the same logic whatever the SQL underneath: reading a slice of a
body stream, and turning stored columns into the rows of ``_rows``. Each
engine's SQL stays in its own modules.
"""

from typing import BinaryIO


def read_range(stream: BinaryIO, offset: int, length: int) -> bytes:
    """``length`` bytes from ``offset`` (fewer at the end), reading no more than that.

    What a paged slice of a body needs: a blob streams from disk, so skipping
    reads forward in bounded pieces instead of loading the whole body.
    """
    left = max(0, offset)
    while left > 0:
        skipped = stream.read(min(left, 1 << 20))
        if not skipped:
            return b""
        left -= len(skipped)
    return stream.read(max(0, length))
