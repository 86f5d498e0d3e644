"""Span stats grouped in SQL equal the same spans grouped in Python, on both plans."""

import dataclasses
import math
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.errors import UsageError
from orca.query import group_stats, stats
from orca.store import SpanGroup, SQLiteStore, _aggregate, items_from
from orca.store._aggregate import _ARM, GROUP_KEYS, INDEX, LEAF, span_groups

T0 = 1_714_564_800_000_000_000
TRACE = "0" * 31 + "1"

# One span: (name, component, model, tool, start offset, duration or None, status, tokens, cost)
_span = st.tuples(
    st.sampled_from(["turn", "step", "tool-call", "provider.request"]),
    st.sampled_from(["billing", "search"]),
    st.one_of(st.none(), st.sampled_from(["m-1", "m-2"])),
    st.one_of(st.none(), st.sampled_from(["shell", "read_file"])),
    st.integers(0, 10_000),
    st.one_of(st.none(), st.integers(0, 5_000)),
    st.sampled_from(["ok", "error"]),
    st.one_of(st.none(), st.integers(0, 1_000)),
    st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
)


def _records(spans: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Open (and, unless unfinished, close) records for each span of one trace."""
    out: list[dict[str, Any]] = []
    for i, (name, comp, model, tool, start, dur, status, tokens, cost) in enumerate(spans):
        attrs: dict[str, Any] = {}
        if model is not None:
            attrs["gen_ai.request.model"] = model
        if tool is not None:
            attrs["gen_ai.tool.name"] = tool
        sid = f"{i + 1:016x}"
        base = {"v": 1, "component": comp, "trace": TRACE, "span": sid}
        out.append({**base, "kind": "span-open", "ts": T0 + start, "name": name, "attrs": attrs})
        if dur is None:
            continue
        end: dict[str, Any] = {}
        if tokens is not None:
            end["gen_ai.usage.input_tokens"] = tokens
            end["gen_ai.usage.output_tokens"] = tokens // 2
            end["gen_ai.usage.cache_read.input_tokens"] = tokens // 3
        if cost is not None:
            end["orca.cost.usd"] = cost
        close = {**base, "kind": "span-close", "ts": T0 + start + dur, "status": status}
        out.append({**close, "attrs": end} if end else close)
    return out


def _same(sql: list[Any], python: list[Any]) -> bool:
    """Equal, costs within float rounding (SQL and Python add them in other orders)."""
    if len(sql) != len(python):
        return False
    for a, b in zip(sql, python, strict=True):
        if not math.isclose(a.cost, b.cost, rel_tol=1e-9, abs_tol=1e-12):
            return False
        if dataclasses.replace(a, cost=0.0) != dataclasses.replace(b, cost=0.0):
            return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spans=st.lists(_span, max_size=40),
    since=st.one_of(st.none(), st.integers(0, 10_000)),
    max_merge=st.sampled_from([64, 1]),
)
def test_sql_grouping_equals_python_grouping(
    spans: list[tuple[Any, ...]], since: int | None, max_merge: int
) -> None:
    """Every key, both plans (leaves merged or sorted), any window: what :func:`stats` says."""
    with (
        tempfile.TemporaryDirectory() as d,
        SQLiteStore.open(Path(d)) as store,
        mock.patch.object(_aggregate, "MAX_MERGE", max_merge),
    ):
        store.apply(items_from(_records(spans), "s1"))
        since_ns = None if since is None else T0 + since
        conn = store._conn
        for by in GROUP_KEYS:
            expected = stats(store.span_stats(group_by=by, since_ns=since_ns))
            for plan in ("key", "window", "auto"):
                got = group_stats(span_groups(conn, group_by=by, since_ns=since_ns, plan=plan))
                assert _same(got, expected), (by, plan, got, expected)


def test_groups_carry_counts_percentiles_and_sums(tmp_path: Path) -> None:
    """Unfinished spans count but have no duration; p50/p95 are nearest-rank members."""
    spans = [("step", "billing", "m-1", None, i, (i + 1) * 10, "ok", 10, 0.5) for i in range(20)]
    spans.append(("step", "billing", "m-1", None, 99, None, "ok", None, None))
    spans.append(("step", "billing", "m-2", None, 100, 7, "error", None, None))
    with SQLiteStore.open(tmp_path) as store:
        store.apply(items_from(_records(spans), "s1"))
        [step] = store.span_groups(group_by="name")
        assert (step.key, step.count, step.errors, step.unfinished, step.timed) == (
            "step",
            22,
            1,
            1,
            21,
        )
        # durations 7, 10, 20, ..., 200: rank ceil(0.5*21)-1 = 10 -> 100; rank 19 -> 190
        assert (step.p50_ns, step.p95_ns) == (100, 190)
        assert (step.input_tokens, step.output_tokens, step.cache_read_tokens) == (200, 100, 60)
        assert step.cost == pytest.approx(10.0)
        models = store.span_groups(group_by="model")
        assert [(g.key, g.count) for g in models] == [("m-1", 21), ("m-2", 1)]
        assert store.span_groups(group_by="tool") == []


def test_only_unfinished_spans_have_no_percentiles(tmp_path: Path) -> None:
    """A group of only unfinished spans has no duration percentiles, with either query plan."""
    with SQLiteStore.open(tmp_path) as store:
        store.apply(
            items_from(_records([("turn", "a", None, None, 0, None, "ok", None, None)]), "s")
        )
        for plan in ("key", "window"):
            [g] = span_groups(store._conn, group_by="name", since_ns=None, plan=plan)  # type: ignore[arg-type]
            assert g == SpanGroup("turn", 1, 0, 1, 0, None, None, 0, 0, 0, 0.0)


def test_unknown_key_is_a_clear_error(tmp_path: Path) -> None:
    """Grouping by an unknown key is refused with an error naming group_by."""
    with SQLiteStore.open(tmp_path) as store, pytest.raises(UsageError, match="group_by"):
        store.span_groups(group_by="colour")


def test_key_plan_reads_indexes_without_sorting(tmp_path: Path) -> None:
    """The plans the speed depends on: index walks and a merge of index ranges, no sort."""
    with SQLiteStore.open(tmp_path):
        pass
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    cols = ", ".join(LEAF)
    closed = (
        f"SELECT {cols}, count(*) FROM spans INDEXED BY {INDEX}"
        f" WHERE end_ns IS NOT NULL GROUP BY {cols}"
    )
    arms = " UNION ALL ".join([_ARM + " AND start_ns >= ?"] * 3)
    merged = f"SELECT d FROM ({arms}) ORDER BY d DESC LIMIT 1 OFFSET 2"
    for sql, params in ((closed, []), (merged, [None] * 15)):
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert INDEX in plan and "TEMP B-TREE" not in plan, plan
    # open spans (not in the stats index) are found through an index, not a table scan
    opened = (
        f"SELECT {cols}, count(*) FROM spans WHERE end_ns IS NULL AND +start_ns >= 0"
        f" GROUP BY {cols}"
    )
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + opened))
    assert "USING INDEX" in plan and "spans_start" not in plan, plan
    conn.close()
