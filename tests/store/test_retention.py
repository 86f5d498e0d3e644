"""Retention: prune removes what it says, keeps pinned traces and referenced bodies, rolls up."""

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.capture import IdGenerator, ListSink, Recorder
from orca.store import RetentionPolicy, SQLiteStore, items_from
from orca.testing import temp_home

DAY = 86_400 * 10**9
NOW = 100 * DAY
AGE_30D = RetentionPolicy(max_age=timedelta(days=30), max_total_body_bytes=None)


def _turns(start_ns: int, n: int, shared: str, tag: str) -> list[dict[str, Any]]:
    """``n`` turns starting at ``start_ns`` (1 s apart), each with a shared and an own body."""
    clock = iter(range(start_ns, start_ns + 10**12, 10**8))
    sink = ListSink()
    rec = Recorder(
        sink, clock=lambda: next(clock), ids=IdGenerator(clock_ms=lambda: start_ns // 10**6)
    )
    log = rec.logger("svc")
    for i in range(n):
        turn = log.span("turn")
        turn.log.info("hello")
        step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body=shared)
        step.add_link(turn)
        step.end(
            attrs={"gen_ai.usage.input_tokens": 10, "orca.cost.usd": 0.5},
            body=f"{tag} answer {i}",
            status="error" if i == 0 else None,
        )
        turn.end()
    return [dict(r) for r in sink.records]


def _count(store: SQLiteStore, sql: str) -> int:
    conn = sqlite3.connect(store.path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_prune_by_age_keeps_new_pinned_and_referenced(home: Path) -> None:
    """Pruning by age keeps pinned traces and shared bodies, leaves no orphans."""
    old = _turns(NOW - 40 * DAY, 3, "SHARED BODY", "old")
    pinned = _turns(NOW - 50 * DAY, 1, "PINNED BODY", "pin")
    new = _turns(NOW - DAY, 2, "SHARED BODY", "new")
    with SQLiteStore.open(home) as store:
        store.apply(items_from(old + pinned + new, "seg"))
        pin_id = pinned[0]["trace"]
        assert store.pin(pin_id) and not store.pin("f" * 32)
        before = store.totals()
        result = store.prune(AGE_30D, now_ns=NOW)
        after = store.totals()
        assert (result.traces, result.spans, result.logs, result.links) == (3, 6, 3, 3)
        assert after.spans == before.spans - 6 and after.traces == 3
        assert after.logs == before.logs - 3 and after.links == before.links - 3
        # the old answers went; the shared body is still referenced by new spans and stays
        assert result.bodies_collected == 3 and result.bodies_evicted == 0
        assert after.bodies == before.bodies - 3
        for span in store.find_spans():
            for sha in (span.request_body, span.response_body):
                assert sha is None or store.get_body(sha) is not None
        assert {t.trace_id for t in store.list_traces()} == {pin_id} | {r["trace"] for r in new}
        assert store.get_trace(pin_id).summary.pinned
        # no orphans: every span, log and link belongs to a trace that is still there
        for table in ("spans", "logs", "links"):
            assert (
                _count(
                    store,
                    f"SELECT count(*) FROM {table} WHERE trace_id NOT IN"
                    " (SELECT trace_id FROM traces)",
                )
                == 0
            )
        [turn, step] = sorted(store.rollups(), key=lambda r: r.name, reverse=True)
        assert (turn.name, turn.span_count, turn.error_count) == ("turn", 3, 0)
        assert (step.name, step.model, step.span_count, step.error_count) == ("step", "m", 3, 1)
        assert step.input_tokens == 30 and step.cost == 1.5
        assert (
            step.duration_sum_ns == 6 * 10**8 and step.duration_p95_ns is not None
        )  # 2 ticks each
        assert 2 * 10**8 <= step.duration_p95_ns <= 1.2 * 2 * 10**8
        # pruning again removes nothing and the roll-ups stay as they are
        again = store.prune(AGE_30D, now_ns=NOW)
        assert again.traces == 0 and len(store.rollups()) == 2
        assert store.rollups(since_day="2100-01-01") == []


def test_rollups_merge_across_prunes(home: Path) -> None:
    """Two prunes that take spans of the same day add up in one roll-up row."""
    day_start = NOW - 40 * DAY
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_turns(day_start, 2, "B", "a"), "a"))
        store.prune(AGE_30D, now_ns=NOW)
        store.apply(items_from(_turns(day_start + 1000, 3, "B", "b"), "b"))
        store.prune(AGE_30D, now_ns=NOW)
        turn = next(r for r in store.rollups() if r.name == "turn")
        assert turn.span_count == 5


def test_body_cap_evicts_oldest_unpinned(home: Path) -> None:
    """Over the byte cap the oldest bodies go first; a pinned trace's bodies never do."""
    first = _turns(NOW - 3 * DAY, 1, "A" * 5000 + "first", "f")
    second = _turns(NOW - 2 * DAY, 1, "B" * 5000 + "second", "s")
    third = _turns(NOW - DAY, 1, "C" * 5000 + "third", "t")
    with SQLiteStore.open(home) as store:
        store.apply(items_from(first + second + third, "seg"))
        store.pin(first[0]["trace"])
        stored = _count(store, "SELECT sum(stored) FROM bodies")
        biggest = _count(store, "SELECT max(stored) FROM bodies")
        result = store.prune(
            RetentionPolicy(max_age=None, max_total_body_bytes=stored - 1), now_ns=NOW
        )
        assert result.traces == 0 and result.bodies_evicted >= 1
        assert _count(store, "SELECT sum(stored) FROM bodies") <= stored - 1
        step = lambda t: next(s for s in store.get_trace(t[0]["trace"]).spans if s.name == "step")  # noqa: E731
        assert store.get_body(step(first).request_body or "") is not None  # pinned
        assert store.get_body(step(second).request_body or "") is None  # oldest unpinned
        assert store.get_body(step(third).request_body or "") is not None
        assert step(second).request_body_bytes > 0  # the span still says a body was there
        assert biggest < stored


_POOL = [f"body {i} " + "x" * (i * 40) for i in range(12)]  # raw and zstd, some shared


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60),  # age in days
            st.booleans(),  # pinned
            st.lists(
                st.tuples(st.sampled_from(_POOL), st.sampled_from([None, *_POOL])), max_size=4
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_prune_releases_exactly_the_unreferenced_bodies(
    traces: list[tuple[int, bool, list[tuple[str, str | None]]]],
) -> None:
    """After a prune, the bodies left are those the spans left carry, each with its count."""
    with temp_home() as home, SQLiteStore.open(home) as store:
        records: list[dict[str, Any]] = []
        for t, (age, _, steps) in enumerate(traces):
            trace, ts = f"{t + 1:032x}", NOW - age * DAY
            base = {"v": 1, "component": "agent", "trace": trace}
            for k, (request, response) in enumerate(steps):
                span = f"{t + 1:08x}{k:08x}"
                records.append(
                    {
                        **base,
                        "kind": "span-open",
                        "ts": ts + k,
                        "span": span,
                        "name": "step",
                        "body": request,
                    }
                )
                close = {
                    **base,
                    "kind": "span-close",
                    "ts": ts + k + 1,
                    "span": span,
                    "status": "ok",
                }
                if response is not None:
                    close["body"] = response
                records.append(close)
            records.append(
                {**base, "kind": "span-open", "ts": ts, "span": f"{t + 1:016x}", "name": "turn"}
            )
        store.apply(items_from(records, "seg"))
        for t, (_, pinned, _) in enumerate(traces):
            if pinned:
                store.pin(f"{t + 1:032x}")
        store.prune(AGE_30D, now_ns=NOW)
        carried: dict[str, int] = {}
        for summary in store.list_traces(limit=None):
            rows = store.get_trace(summary.trace_id)
            assert rows is not None
            for s in rows.spans:
                for sha in (s.request_body, s.response_body):
                    if sha:
                        carried[sha] = carried.get(sha, 0) + 1
        conn = sqlite3.connect(store.path)
        left = dict(conn.execute("SELECT lower(hex(sha256)), refs FROM bodies").fetchall())
        conn.close()
        assert left == carried
        for sha in carried:
            assert store.get_body(sha) is not None
