"""Write-side contract on both engines: idempotent batches, prune and pin, equal answers."""

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.store import Batch, Item, RetentionPolicy, TraceStore, open_store
from orca.testing import capture_records, temp_home

StoreFactory = Callable[[Path], TraceStore]


def _journal(turns: int, seed: int = 0) -> list[dict[str, Any]]:
    """``turns`` recorded turns: LLM steps with bodies, tool calls (some failing), logs, links."""
    with capture_records() as (rec, records):
        log = rec.logger("svc")
        for i in range(turns):
            turn = log.span("turn", attrs={"gen_ai.conversation.id": f"c{(i + seed) % 3}"})
            turn.log.info(f"turn {i} asks about refunds")
            step = turn.child(
                "step",
                attrs={"gen_ai.request.model": f"m-{i % 2}"},
                body=f"PROMPT {i + 100 * seed} refunds",
            )
            step.end(
                attrs={"gen_ai.usage.input_tokens": 10 + i, "gen_ai.usage.output_tokens": i},
                body=f"RESPONSE {i + 100 * seed}",
            )
            tool = turn.child("tool-call", attrs={"gen_ai.tool.name": f"t{i % 3}"})
            tool.add_link(step, reason="caused-by")
            tool.end(status="error" if i % 4 == 3 else None)
            turn.end()
    return [dict(r) for r in records]


def _batches(records: list[dict[str, Any]], cuts: list[int], source: str) -> list[Batch]:
    """The journal read in batches ending at ``cuts`` (record index = byte offset here)."""
    bounds = sorted({c for c in cuts if 0 < c < len(records)} | {len(records)})
    out, start = [], 0
    for end in bounds:
        items = [Item(records[i], source, i) for i in range(start, end)]
        out.append(Batch(items=items, offsets={source: end}))
        start = end
    return out


def _snapshot(store: TraceStore, only: set[str] | None = None) -> list[Any]:
    """Every trace (or those in ``only``) in full, newest first."""
    found = store.list_traces(limit=None)
    return [store.get_trace(t.trace_id) for t in found if only is None or t.trace_id in only]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cuts=st.lists(st.integers(0, 40), max_size=6),
    replays=st.lists(st.integers(0, 6), max_size=4),
)
def test_reapplying_batches_changes_nothing(
    make_store: StoreFactory, cuts: list[int], replays: list[int]
) -> None:
    """Any split into batches, any batch applied again (a retry): the same store as once."""
    records = _journal(4)  # fresh ids each example: examples never meet in a shared database
    with temp_home() as once_home, temp_home() as again_home:
        with open_store(once_home / "reference.sqlite", create=True) as once:
            for batch in _batches(records, [], "seg"):
                once.apply(batch)
            expected = _snapshot(once)
        with make_store(again_home) as again:
            source = f"seg-{records[0]['trace']}"  # the store outlives one example
            batches = _batches(records, cuts, source)
            for i, batch in enumerate(batches):
                again.apply(batch)
                for r in replays:
                    if r <= i:
                        assert again.apply(batches[r]).applied == 0
            assert again.offsets()[source] == len(records)
            got = _snapshot(again, {r["trace"] for r in records if "trace" in r})
        assert got == expected  # on either engine: what SQLite holds after one clean pass
        assert {t.summary.span_count for t in got} == {3}


def test_prune_keeps_pinned_and_rolls_up(store: TraceStore) -> None:
    """Old traces go (rolled up first), a pinned one stays with its bodies; new ones stay."""
    old = _journal(2)
    shift = 40 * 86_400 * 10**9
    for r in old:
        r["ts"] -= shift
    new = _journal(1, seed=7)  # bodies of its own: what the old traces free is theirs alone
    store.apply(Batch([Item(r, "old", i) for i, r in enumerate(old)], offsets={"old": len(old)}))
    store.apply(Batch([Item(r, "new", i) for i, r in enumerate(new)], offsets={"new": len(new)}))
    traces = store.list_traces(limit=None)
    assert len(traces) == 3
    kept, gone = sorted(t.trace_id for t in traces if t.start_ns < time.time_ns() - shift // 2)
    assert store.pin(kept) and not store.pin("f" * 32)
    result = store.prune(RetentionPolicy(max_age=timedelta(days=30)))
    assert (result.traces, result.spans) == (1, 3)
    assert result.rollup_rows > 0 and result.bodies_collected == 2
    assert {t.trace_id for t in store.list_traces(limit=None)} == {kept} | {
        t.trace_id for t in traces if t.start_ns >= time.time_ns() - shift // 2
    }
    assert store.get_trace(gone) is None
    pinned = store.get_trace(kept)
    assert pinned is not None and pinned.summary.pinned
    step = next(s for s in pinned.spans if s.name == "step")
    assert store.get_body(step.request_body or "") is not None
    days = store.rollups()
    assert sum(r.span_count for r in days) == 3
    assert {r.name for r in days} == {"turn", "step", "tool-call"}


def _open(url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> TraceStore:
    monkeypatch.setenv("ORCA_STORE", url)
    return open_store(home, create=True)


def test_engines_agree_on_the_same_journal(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite and PostgreSQL fed one journal answer every read the same (stats included)."""
    records = _journal(12)
    crashed = _journal(1, seed=1)[:-4]  # a turn cut short: its writer will be declared dead
    sqlite = _open(f"sqlite://{tmp_path / 'a.sqlite'}", tmp_path / "a", monkeypatch)
    pg = _open(pg_url, tmp_path / "b", monkeypatch)
    with sqlite, pg:
        for s in (sqlite, pg):
            for batch in _batches(records, [7, 30, 31, 55], "1-2-000000.ndjson"):
                s.apply(batch)
            s.apply(_batches(crashed, [], "3-4-000000.ndjson")[0])
            s.attribute_crash("3-4", detected_ns=crashed[-1]["ts"] + 5)
            s.catch_up_search()
        assert _snapshot(sqlite) == _snapshot(pg)
        for key in ("name", "model", "component", "tool"):
            assert sqlite.span_groups(group_by=key) == pg.span_groups(group_by=key)
            assert sorted(sqlite.span_stats(group_by=key), key=repr) == sorted(
                pg.span_stats(group_by=key), key=repr
            )
        for text in ("refunds", "turn 3", "m-1", "PROMPT 4"):
            a = {(h.trace_id, h.span_id, h.where, h.ts_ns) for h in sqlite.search(text, limit=100)}
            b = {(h.trace_id, h.span_id, h.where, h.ts_ns) for h in pg.search(text, limit=100)}
            assert a == b and a, text
        assert [s.span_id for s in sqlite.find_spans(name="step")] == [
            s.span_id for s in pg.find_spans(name="step")
        ]
        ta, tb = sqlite.totals(), pg.totals()
        assert (ta.spans, ta.logs, ta.links, ta.traces, ta.bodies) == (
            tb.spans,
            tb.logs,
            tb.links,
            tb.traces,
            tb.bodies,
        )
