"""Ids in SQLite: hex ids stored as blobs, any other id as text; every id reads back as written."""

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from orca.store import SQLiteStore, items_from
from orca.store._ids import key, prefix_bounds, text

HEX = st.text("0123456789abcdef", min_size=1, max_size=40)


@given(st.one_of(st.text(max_size=40), HEX))
def test_every_id_round_trips(value: str) -> None:
    """``text(key(id)) == id`` for any string, and only lower-case even-length hex is a blob."""
    stored = key(value)
    assert text(stored) == value
    assert isinstance(stored, bytes) == (
        bool(value) and len(value) % 2 == 0 and all(c in "0123456789abcdef" for c in value)
    )


@given(HEX, st.binary(max_size=20))
def test_prefix_bounds_hold_exactly_the_ids_with_the_prefix(prefix: str, raw: bytes) -> None:
    """A blob id is within the bounds of a hex prefix exactly when its hex starts with it."""
    lo, hi = prefix_bounds(prefix)
    assert (lo <= raw <= hi) == raw.hex().startswith(prefix)


def _trace(trace: str, span: str, parent: str | None, ts: int) -> list[dict[str, object]]:
    base = {"v": 1, "component": "c", "trace": trace}
    return [
        {**base, "kind": "span-open", "ts": ts, "span": span, "name": "s", "parent": parent},
        {**base, "kind": "log", "ts": ts + 1, "level": "info", "msg": "m", "span": span},
        {**base, "kind": "span-close", "ts": ts + 2, "span": span, "status": "ok"},
    ]


def test_hex_and_other_ids_live_side_by_side(home: Path) -> None:
    """A trace with hex ids and one with other ids both read back, resolve and list as written."""
    hex_trace, odd = "ab" * 16, "T-1"
    records = [*_trace(hex_trace, "cd" * 8, None, 10), *_trace(odd, "abc", "ABCD", 20)]
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "seg"))
        assert [t.trace_id for t in store.list_traces()] == [odd, hex_trace]
        for trace, span, parent in ((hex_trace, "cd" * 8, None), (odd, "abc", "ABCD")):
            rows = store.get_trace(trace)
            assert rows is not None
            assert [(s.trace_id, s.span_id, s.parent_id) for s in rows.spans] == [
                (trace, span, parent)
            ]
            assert [(g.trace_id, g.span_id) for g in rows.logs] == [(trace, span)]
            got = store.get_span(span)
            assert got is not None and got.trace_id == trace
        assert store.resolve_id("abab", "trace") == [hex_trace]
        assert store.resolve_id("cdc", "span") == ["cd" * 8]
        assert store.resolve_id("ab", "span") == ["abc"]  # a text id, by its prefix
        assert store.get_trace("AB" * 16) is None  # upper case is another id
