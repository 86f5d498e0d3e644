"""Stats over facts and the tool-definition overhead ranking."""

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orca.query import (
    percentile,
    render_stats,
    render_tool_costs,
    span_facts,
    stats,
    stats_json,
    tool_costs,
    tool_costs_json,
)


def test_stats_by_name(tb: Any) -> None:
    """Counts, error rate, percentiles, tokens and cost per span name, busiest first."""
    t = tb("stats")
    turn = t.span("turn", dur_ms=1000)
    for i in range(10):
        t.span(
            "provider.request",
            turn,
            start_ms=i,
            dur_ms=i + 1,
            status="error" if i == 9 else "ok",
            attrs={
                "gen_ai.request.model": "m1" if i < 5 else "m2",
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 10,
                "gen_ai.usage.cache_read.input_tokens": 50,
                "orca.cost.usd": 0.01,
            },
        )
    rows = stats(span_facts(t.rows().spans))
    req = rows[0]
    assert (req.key, req.count, req.errors) == ("provider.request", 10, 1)
    assert req.p50_ns == 5_000_000 and req.p95_ns == 10_000_000
    assert (req.input_tokens, req.output_tokens, req.cache_read_tokens) == (1000, 100, 500)
    assert abs(req.cost - 0.1) < 1e-9
    by_model = stats(span_facts(t.rows().spans, "model"))
    assert sorted(r.key for r in by_model) == ["m1", "m2"]
    assert "provider.request" in render_stats(rows, "name")
    assert stats_json(rows, "name")["groups"][0]["error_rate"] == 0.1


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=200))
def test_percentiles_are_members_and_ordered(durs: list[int]) -> None:
    """p50 ≤ p95, both are observed values; agrees with the checks' percentile."""
    facts = [("k", d, "ok", 0, 0, 0, 0.0) for d in durs]
    [row] = stats(facts)
    assert row.p50_ns in durs and row.p95_ns in durs
    assert row.p50_ns is not None and row.p95_ns is not None and row.p50_ns <= row.p95_ns
    assert row.p95_ns == percentile(durs, 0.95)


def test_tool_costs_rank_fat_unused_first(tb: Any) -> None:
    """A fat definition never used ranks above a slim one used often."""
    t = tb("tools")
    turn = t.span("turn")
    segs = [
        {"contributor": "persona", "kind": "persona", "chars": 500},
        {"contributor": "search_kb", "kind": "tool-def", "chars": 300},
        {"contributor": "legacy_export", "kind": "tool-def", "chars": 4000},
    ]
    for i in range(4):
        t.span(
            "prompt.assembly", turn, start_ms=i, attrs={"orca.prompt.segments": json.dumps(segs)}
        )
    for i in range(3):
        t.span(
            "tool-call",
            turn,
            start_ms=10 + i,
            status="error" if i == 0 else "ok",
            attrs={"gen_ai.tool.name": "search_kb"},
        )
    spans = t.rows().spans
    rows = tool_costs(
        [s for s in spans if s.name == "prompt.assembly"],
        [s for s in spans if s.name == "tool-call"],
    )
    assert [r.tool for r in rows] == ["legacy_export", "search_kb"]
    fat, slim = rows
    assert (fat.requests, fat.def_chars, fat.total_chars, fat.uses) == (4, 4000, 16000, 0)
    assert (slim.uses, slim.successes, slim.chars_per_use) == (3, 2, 400.0)
    assert "pure overhead" in render_tool_costs(rows).splitlines()[1]
    assert tool_costs_json(rows)["tools"][1]["success_rate"] == 2 / 3
