"""The store's ledger mirror: idempotent writes, reads by trace and run, erasure, retention."""

import sqlite3
import tempfile
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.store import (
    Batch,
    LedgerItem,
    LedgerRow,
    RetentionPolicy,
    SQLiteStore,
    StoreError,
    items_from,
)

DAY = 86_400 * 10**9
NOW = 100 * DAY
SOURCE = "ledger/ledger.ndjson"
TRACE_A = "a" * 32
TRACE_B = "b" * 32


def _row(i: int, ts: int, trace: str | None = TRACE_A, run: str | None = "r1") -> LedgerRow:
    return LedgerRow(
        id=i,
        ts_ns=ts,
        kind="envelope.rejected" if i % 3 == 0 else "task.completed",
        run=run,
        trace_id=trace,
        span_id=None,
        actor="worker",
        prev=f"{i - 1:064x}",
        hash=f"{i:064x}",
        payload_hash="c" * 64,
        args={"i": i},
        result=[1, "two"],
        meta=None,
        signature="d" * 128,
        key_id="e" * 16,
    )


def _batch(rows: list[LedgerRow], end: int) -> Batch:
    """A batch as the collector makes it: entry i at offset 100 * i, resuming at ``end``."""
    return Batch(ledger=[LedgerItem(r, SOURCE, 100 * r.id) for r in rows], offsets={SOURCE: end})


def _dump(store: SQLiteStore) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute("SELECT * FROM ledger ORDER BY id").fetchall()
    finally:
        conn.close()


ROWS = [_row(i, 1_000 + i) for i in range(1, 13)]


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(1, len(ROWS) - 1), max_size=4, unique=True),
    replays=st.lists(st.integers(0, 4), max_size=3),
    stale_offsets=st.booleans(),
)
def test_reapplying_entries_changes_nothing(
    cuts: list[int], replays: list[int], stale_offsets: bool
) -> None:
    """Any split into batches, any batch applied again, gives the table of one clean apply."""
    bounds = [0, *sorted(cuts), len(ROWS)]
    batches = [(ROWS[a:b], 100 * (ROWS[b - 1].id + 1)) for a, b in pairwise(bounds)]
    with tempfile.TemporaryDirectory() as d:
        with SQLiteStore.open(Path(d) / "once.sqlite") as once:
            assert once.apply(_batch(ROWS, 100 * 13)).ledger == len(ROWS)
            expected = _dump(once)
        with SQLiteStore.open(Path(d) / "split.sqlite") as split:
            total = 0
            for rows, end in batches:
                total += split.apply(_batch(rows, end)).ledger
            for k in replays:
                rows, end = batches[k % len(batches)]
                # stale offsets: the collector crashed before committing; the offset check
                # is bypassed (offset 0 committed elsewhere) and the primary key still holds
                src = SOURCE if not stale_offsets else "other"
                again = Batch(ledger=[LedgerItem(r, src, 0) for r in rows], offsets={src: 0})
                result = split.apply(again)
                assert result.ledger == 0 and result.skipped == len(rows)
            assert total == len(ROWS)
            assert _dump(split) == expected


def test_read_back_by_trace_and_run(home: Path) -> None:
    """get_trace carries the trace's entries; ledger_entries filters by run, trace, time, count."""
    rows = [
        _row(1, 10, TRACE_A, "r1"),
        _row(2, 20, TRACE_B, "r2"),
        _row(3, 30, TRACE_A, "r1"),
        _row(4, 40, None, "r1"),
    ]
    with SQLiteStore.open(home) as store:
        store.apply(_batch(rows, 500))
        # a trace known only from the ledger is still a trace
        a = store.get_trace(TRACE_A)
        assert a is not None and [e.id for e in a.ledger] == [1, 3]
        assert a.summary.span_count == 0 and a.summary.start_ns == 10
        assert a.ledger[1] == rows[2]  # every field round-trips
        assert [e.id for e in store.ledger_entries(run="r1")] == [1, 3, 4]
        assert [e.id for e in store.ledger_entries(trace=TRACE_B)] == [2]
        assert [e.id for e in store.ledger_entries(since_ns=25)] == [3, 4]
        assert [e.id for e in store.ledger_entries(run="r1", limit=2)] == [1, 3]
        assert store.ledger_entries(run="nope") == []
        assert store.resolve_id("bbbb", "trace") == [TRACE_B]


def test_spans_then_ledger_share_one_trace(home: Path) -> None:
    """Journal spans and ledger entries of one trace meet in one TraceRows."""
    spans = [
        {
            "v": 1,
            "kind": "span-open",
            "ts": 50,
            "component": "svc",
            "trace": TRACE_A,
            "span": "1" * 16,
            "name": "turn",
        },
        {
            "v": 1,
            "kind": "span-close",
            "ts": 90,
            "component": "svc",
            "trace": TRACE_A,
            "span": "1" * 16,
            "status": "ok",
        },
    ]
    with SQLiteStore.open(home) as store:
        store.apply(items_from(spans, "seg"))
        store.apply(_batch([_row(1, 60, TRACE_A)], 200))
        rows = store.get_trace(TRACE_A)
        assert rows is not None and rows.summary.root_name == "turn"
        assert rows.summary.start_ns == 50 and [e.id for e in rows.ledger] == [1]
        assert store.list_traces()[0].trace_id == TRACE_A


def test_erase_nulls_the_payload_only(home: Path) -> None:
    """Erasing a mirrored entry nulls its payload once and keeps its hashes."""
    with SQLiteStore.open(home) as store:
        store.apply(_batch([_row(1, 10), _row(2, 20)], 300))
        assert store.erase_ledger_payloads([2, 99]) == 1
        assert store.erase_ledger_payloads([2]) == 0
        one, two = store.ledger_entries()
        assert one.args == {"i": 1} and not one.erased
        assert two.erased and (two.args, two.result, two.meta) == (None, None, None)
        assert two.hash == f"{2:064x}" and two.payload_hash == "c" * 64


def test_a_ledger_entry_needs_its_source_offset(home: Path) -> None:
    """A batch with a ledger entry but no offset for its source is refused and writes nothing."""
    with SQLiteStore.open(home) as store:
        bad = Batch(ledger=[LedgerItem(_row(1, 1), SOURCE, 0)], offsets={"seg": 1})
        with pytest.raises(StoreError, match="no offset"):
            store.apply(bad)
        assert store.ledger_entries() == []


def test_prune_follows_trace_retention(home: Path) -> None:
    """Old traces take their mirrored entries with them; pinned and new ones keep theirs."""
    old, pinned, new = "1" * 32, "2" * 32, "3" * 32
    rows = [
        _row(1, NOW - 40 * DAY, old),
        _row(2, NOW - 40 * DAY, pinned),
        _row(3, NOW - DAY, new),
        _row(4, NOW - 40 * DAY, None),
        _row(5, NOW - DAY, None),
    ]
    with SQLiteStore.open(home) as store:
        store.apply(_batch(rows, 600))
        assert store.pin(pinned)
        result = store.prune(
            RetentionPolicy(max_age=timedelta(days=30), max_total_body_bytes=None), now_ns=NOW
        )
        assert result.ledger == 2 and result.traces == 1
        assert [e.id for e in store.ledger_entries()] == [2, 3, 5]
        assert store.get_trace(old) is None
        pinned_rows = store.get_trace(pinned)
        assert pinned_rows is not None and [e.id for e in pinned_rows.ledger] == [2]
        # pruning again finds nothing more, and re-applying a pruned entry is refused by offset
        assert store.prune(now_ns=NOW).ledger == 0
        assert store.apply(_batch(rows[:1], 600)).ledger == 0
