"""Reading a journal segment from a byte offset.

The reader takes a file object, not a path (the caller owns opening and
seeking policy), yields only whole lines, and treats a line without its
newline as "not written yet": the offset it reports stops in front of it, so
the next read picks the line up once the writer finishes it.
"""

from collections.abc import Iterator
from typing import BinaryIO, Final, NamedTuple

from orca.records import Record, RecordError, loads

CHUNK: Final = 1 << 20
# Above the sink's record limit (32 MiB): every record the sink writes reads back.
DEFAULT_MAX_LINE_BYTES: Final = 48 * 1024 * 1024
PREVIEW_BYTES: Final = 200


class Line(NamedTuple):
    """One whole line: ``data`` without its newline, at ``offset``; ``end`` is the next offset.

    ``oversize`` lines were longer than the reader's limit; ``data`` then holds
    only their first bytes, enough to quarantine them with a preview.
    """

    offset: int
    end: int
    data: bytes
    oversize: bool = False


class Parsed(NamedTuple):
    """A line and what it decoded to: exactly one of ``record`` and ``error`` is set."""

    line: Line
    record: Record | None
    error: RecordError | None


class JournalReader:
    """Yields whole lines of one segment starting at ``offset``.

    After iteration, :attr:`offset` is the first byte not yet consumed (the start
    of a torn last line, if any) and :attr:`pending` how many bytes follow it.
    """

    def __init__(
        self,
        f: BinaryIO,
        offset: int = 0,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        chunk_bytes: int = CHUNK,
    ) -> None:
        self._f = f
        self.offset = offset
        self.pending = 0
        self.max_line_bytes = max_line_bytes
        self.chunk_bytes = chunk_bytes

    def lines(self, max_lines: int | None = None) -> Iterator[Line]:
        """Whole lines from :attr:`offset`, at most ``max_lines`` of them."""
        f = self._f
        f.seek(self.offset)
        buf = b""
        start = self.offset  # file offset of buf[0]
        skipping = False  # inside an oversize line, discarding to its newline
        oversize_at = 0
        preview = b""
        count = 0
        while max_lines is None or count < max_lines:
            chunk = f.read(self.chunk_bytes)
            if not chunk:
                break
            buf += chunk
            pos = 0
            while max_lines is None or count < max_lines:
                nl = buf.find(b"\n", pos)
                if nl < 0:
                    break
                if skipping:
                    skipping = False
                    line = Line(oversize_at, start + nl + 1, preview, oversize=True)
                elif nl - pos > self.max_line_bytes:
                    line = Line(start + pos, start + nl + 1, buf[pos : pos + PREVIEW_BYTES], True)
                else:
                    line = Line(start + pos, start + nl + 1, buf[pos:nl])
                pos = nl + 1
                self.offset = line.end
                count += 1
                yield line
            buf = buf[pos:]
            start += pos
            if not skipping and len(buf) > self.max_line_bytes:
                skipping, oversize_at, preview = True, start, buf[:PREVIEW_BYTES]
            if skipping:
                start += len(buf)
                buf = b""
        self.pending = (start + len(buf)) - self.offset

    def records(self, max_lines: int | None = None) -> Iterator[Parsed]:
        """Whole lines decoded and validated; a bad line comes back with its error."""
        for line in self.lines(max_lines):
            if line.oversize:
                err = RecordError("", f"line longer than {self.max_line_bytes} bytes")
                yield Parsed(line, None, err)
                continue
            try:
                yield Parsed(line, loads(line.data), None)
            except RecordError as exc:
                yield Parsed(line, None, exc)


def read_records(f: BinaryIO, offset: int = 0) -> tuple[list[Record], int]:
    """All valid records from ``offset`` and the next offset; raise on the first invalid line.

    The strict convenience for tests and tools; the collector uses
    :meth:`JournalReader.records` to quarantine bad lines instead.
    """
    reader = JournalReader(f, offset)
    out: list[Record] = []
    for parsed in reader.records():
        if parsed.error is not None:
            raise RecordError(
                parsed.error.field, f"at offset {parsed.line.offset}: {parsed.error.reason}"
            )
        assert parsed.record is not None
        out.append(parsed.record)
    return out, reader.offset
