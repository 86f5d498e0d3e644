"""The reader: whole lines from an offset; a torn tail waits; bad lines come back with errors."""

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.journal import JournalReader, read_records
from orca.records import RecordError

GOLDEN = Path(__file__).parent / "golden"


def test_golden_ok() -> None:
    """A clean segment reads whole, and the next offset is its size."""
    data = (GOLDEN / "ok.ndjson").read_bytes()
    records, offset = read_records(io.BytesIO(data))
    assert [r["kind"] for r in records] == ["proc", "span-open", "log", "span-close"]
    assert offset == len(data)


def test_golden_torn_tail_is_not_returned() -> None:
    """A last line without its newline is not returned; the offset stops in front of it."""
    data = (GOLDEN / "torn.ndjson").read_bytes()
    reader = JournalReader(io.BytesIO(data))
    lines = list(reader.lines())
    assert len(lines) == 4
    torn_at = data.rindex(b"\n") + 1
    assert reader.offset == torn_at
    assert reader.pending == len(data) - torn_at


def test_torn_line_is_read_once_completed() -> None:
    """Resuming from the returned offset picks the line up once the writer finishes it."""
    data = (GOLDEN / "torn.ndjson").read_bytes()
    reader = JournalReader(io.BytesIO(data))
    list(reader.lines())
    completed = data + b'nent":"a","level":"info","msg":"late"}\n'
    rest, end = read_records(io.BytesIO(completed), reader.offset)
    assert [r["msg"] for r in rest] == ["late"]  # type: ignore[typeddict-item]
    assert end == len(completed)


def test_golden_corrupt_lines_come_back_with_reasons() -> None:
    """Invalid JSON, invalid records and non-objects are reported with offset and field."""
    data = (GOLDEN / "corrupt.ndjson").read_bytes()
    parsed = list(JournalReader(io.BytesIO(data)).records())
    good = [p.record["kind"] for p in parsed if p.record is not None]
    bad = [(p.line.offset, p.error) for p in parsed if p.error is not None]
    assert good == ["proc", "span-open", "span-close"]
    assert len(bad) == 3
    assert "not valid JSON" in str(bad[0][1])
    assert bad[1][1] is not None and bad[1][1].field == "level"
    assert "JSON object" in str(bad[2][1])
    for offset, _ in bad:  # each offset points at the start of its line
        assert offset == 0 or data[offset - 1 : offset] == b"\n"
    with pytest.raises(RecordError, match="at offset"):
        read_records(io.BytesIO(data))


def test_oversize_line_is_reported_with_a_preview() -> None:
    """An over-long line comes back flagged, with its first bytes, and reading goes on."""
    big = b'{"x":"' + b"y" * 5000 + b'"}\n'
    small = (GOLDEN / "ok.ndjson").read_bytes()
    reader = JournalReader(io.BytesIO(big + small), max_line_bytes=1000, chunk_bytes=512)
    parsed = list(reader.records())
    assert parsed[0].line.oversize and parsed[0].error is not None
    assert parsed[0].line.data == big[:200]
    assert parsed[0].line.end == len(big)
    assert [p.record["kind"] for p in parsed[1:] if p.record] == [
        "proc",
        "span-open",
        "log",
        "span-close",
    ]
    assert reader.offset == len(big) + len(small)


def test_max_lines_stops_early_and_resumes() -> None:
    """Reading in bounded steps visits every line exactly once."""
    data = (GOLDEN / "ok.ndjson").read_bytes()
    f = io.BytesIO(data)
    reader = JournalReader(f)
    seen = []
    while True:
        step = list(reader.lines(max_lines=1))
        if not step:
            break
        seen.extend(step)
    assert len(seen) == 4 and reader.offset == len(data)


@given(
    st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
    st.integers(min_value=1, max_value=64),
)
def test_lines_partition_the_file(lines: list[bytes], tail: bytes, chunk: int) -> None:
    """For any content and chunk size: whole lines come back in order, offsets tile the file."""
    data = b"".join(line + b"\n" for line in lines) + tail
    reader = JournalReader(io.BytesIO(data), chunk_bytes=chunk)
    got = list(reader.lines())
    assert [g.data for g in got] == lines
    pos = 0
    for g in got:
        assert g.offset == pos
        pos = g.end
    assert reader.offset == pos == len(data) - len(tail)
    assert reader.pending == len(tail)
