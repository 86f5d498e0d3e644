"""The timeline projection: depth-first rows, offsets, fold groups that never hide errors."""

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.query import timeline, timeline_json


def test_rows_are_depth_first_with_offsets_and_durations(tb: Any) -> None:
    """Children follow their parent, offsets count from the first start; unfinished: no duration."""
    t = tb("tl")
    turn = t.span("turn", start_ms=0, dur_ms=100)
    a = t.span("step", turn, start_ms=10, dur_ms=20)
    t.span("tool-call", a, start_ms=12, dur_ms=5)
    t.span("step", turn, start_ms=40, dur_ms=None, status="unfinished")
    tl = timeline(t.rows())
    assert [r.depth for r in tl.rows] == [0, 1, 2, 1]
    assert [r.offset_ns for r in tl.rows] == [0, 10_000_000, 12_000_000, 40_000_000]
    assert tl.rows[3].duration_ns is None and tl.rows[3].status == "unfinished"
    assert tl.rows[1].parent_id == turn.span_id


def test_long_runs_fold_but_errors_and_ends_stay_visible(tb: Any) -> None:
    """Ten same-named siblings: head and tail shown, the failed one never folded."""
    t = tb("fold")
    turn = t.span("turn", start_ms=0, dur_ms=1000)
    kids = [
        t.span("tool-call", turn, start_ms=1 + i, dur_ms=1, status="error" if i == 5 else "ok")
        for i in range(10)
    ]
    tl = timeline(t.rows())
    by_id = {r.span_id: r for r in tl.rows}
    folded = [k for k in kids if by_id[k.span_id].group is not None]
    assert len(tl.groups) == 1 and tl.groups[0].hidden == len(folded) == 5
    assert by_id[kids[5].span_id].group is None
    assert all(by_id[k.span_id].group is None for k in kids[:3] + kids[-1:])


def test_links_and_governed_actions_ride_on_their_spans(tb: Any) -> None:
    """A link inside the trace is listed; a ledger entry sits on the span it names."""
    t = tb("links")
    turn = t.span("turn", start_ms=0, dur_ms=50)
    a = t.span("queue.enqueue", turn, start_ms=1, dur_ms=1)
    b = t.span("queue.deliver", turn, start_ms=5, dur_ms=1)
    t.link(a, b, "delivers")
    t.action("budget.exceeded", b, at_ms=6, actor="billing")
    doc = timeline_json(timeline(t.rows()))
    assert doc["links"] == [{"from": a.span_id, "to": b.span_id, "reason": "delivers"}]
    assert doc["actions"] == []
    row = next(r for r in doc["rows"] if r["span"] == b.span_id)
    assert row["ledger"] == [
        {"id": 1, "kind": "budget.exceeded", "actor": "billing", "alarm": True}
    ]


def test_slices_cover_the_rows_exactly_once(tb: Any) -> None:
    """offset/limit slices concatenate to the whole list; groups and links come with each."""
    t = tb("slices")
    turn = t.span("turn", start_ms=0, dur_ms=500)
    for i in range(30):
        t.span("step", turn, start_ms=1 + i, dur_ms=1)
    tl = timeline(t.rows())
    parts = [timeline_json(tl, offset=o, limit=7) for o in range(0, 31, 7)]
    assert [r["span"] for p in parts for r in p["rows"]] == [r.span_id for r in tl.rows]
    assert all(p["total"] == 31 and p["groups"] == parts[0]["groups"] for p in parts)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["step", "tool-call"])), max_size=40
    )
)
def test_every_span_appears_once_and_no_error_is_folded(
    tb: Any, shape: list[tuple[int, str]]
) -> None:
    """Any tree: each span exactly once, its parent before it, failures never in a group."""
    t = tb("prop")
    made = [t.span("turn", start_ms=0, dur_ms=1000)]
    for n, (pick, name) in enumerate(shape):
        parent = made[min(pick, len(made) - 1)]
        made.append(
            t.span(name, parent, start_ms=1 + n, dur_ms=1, status="error" if n % 7 == 3 else "ok")
        )
    tl = timeline(t.rows())
    order = [r.span_id for r in tl.rows]
    assert sorted(order) == sorted(s.span_id for s in made)
    pos = {sid: i for i, sid in enumerate(order)}
    assert all(pos[r.parent_id] < pos[r.span_id] for r in tl.rows if r.parent_id in pos)
    assert all(r.group is None for r in tl.rows if r.status != "ok")


def test_entries_without_a_span_are_listed_for_the_trace(tb: Any) -> None:
    """No root span to hang it on: an entry naming no span is a trace-level action, once."""
    t = tb("loose")
    t.span("step", start_ms=0, dur_ms=5)
    t.action("policy.denied", None, at_ms=2, actor="gate")
    t.action("envelope.accepted", t.spans[0], at_ms=3)
    rows = t.rows()
    rows = replace(rows, summary=replace(rows.summary, root_span_id=None))
    doc = timeline_json(timeline(rows))
    assert [e["kind"] for e in doc["actions"]] == ["policy.denied"]
    assert [e["kind"] for r in doc["rows"] for e in r["ledger"]] == ["envelope.accepted"]
