"""Golden skeletons for hand-built traces, and the invariants folding must keep."""

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.query import render_plain, skeleton, skeleton_json
from orca.store import TraceRows, TraceSummary

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ORCA_UPDATE_GOLDEN") == "1"


def nested(tb: Any) -> TraceRows:
    t = tb("nested")
    turn = t.span(
        "turn",
        start_ms=0,
        dur_ms=3200,
        attrs={"gen_ai.agent.name": "triage", "gen_ai.conversation.id": "conv-1"},
    )
    step = t.span("step", turn, start_ms=5, dur_ms=1800, attrs={"gen_ai.request.model": "gpt-x"})
    t.span(
        "prompt.assembly",
        step,
        start_ms=6,
        dur_ms=1,
        attrs={
            "orca.prompt.segments": '[{"contributor":"persona","kind":"persona","role":"system",'
            '"chars":1200},{"contributor":"tools","kind":"tool-def","role":"system","chars":900}]'
        },
    )
    t.span(
        "provider.request",
        step,
        start_ms=8,
        dur_ms=1700,
        attrs={
            "gen_ai.request.model": "gpt-x",
            "gen_ai.usage.input_tokens": 812,
            "gen_ai.usage.output_tokens": 95,
            "gen_ai.usage.cache_read.input_tokens": 700,
            "orca.cost.usd": 0.0031,
            "orca.prefix.fingerprint": "ab12cd34" * 8,
        },
    )
    t.span(
        "tool-call",
        turn,
        start_ms=1810,
        dur_ms=500,
        attrs={"gen_ai.tool.name": "read_file"},
        resp_bytes=2048,
    )
    t.span(
        "tool-call",
        turn,
        start_ms=2320,
        dur_ms=100,
        status="error",
        attrs={"gen_ai.tool.name": "shell", "exception.message": "exit 2"},
    )
    t.span(
        "queue.deliver",
        turn,
        start_ms=2500,
        dur_ms=3,
        attrs={"messaging.message.id": "m-1", "gen_ai.conversation.id": "conv-2"},
    )
    t.span("custom.thing", turn, start_ms=2600, dur_ms=0.5)
    return t.rows()


def crashed(tb: Any) -> TraceRows:
    t = tb("crashed")
    turn = t.span("turn", start_ms=0, dur_ms=None, attrs={"gen_ai.agent.name": "billing"})
    s1 = t.span("step", turn, start_ms=1, dur_ms=900, attrs={"gen_ai.request.model": "m"})
    s2 = t.span("step", turn, start_ms=910, dur_ms=None, attrs={"gen_ai.request.model": "m"})
    t.crash(s2, start_ms=5000)
    del s1
    return t.rows()


def unfinished(tb: Any) -> TraceRows:
    t = tb("unfinished")
    turn = t.span("turn", start_ms=0, dur_ms=None)
    t.span("tool-call", turn, start_ms=2, dur_ms=None, attrs={"gen_ai.tool.name": "fetch"})
    return t.rows()


def folded(tb: Any) -> TraceRows:
    t = tb("folded")
    turn = t.span("turn", start_ms=0, dur_ms=60_000)
    t.span("step", turn, start_ms=1, dur_ms=200, attrs={"gen_ai.request.model": "m"})
    for i in range(44):
        err = i in (10, 30)
        t.span(
            "tool-call",
            turn,
            start_ms=300 + i * 100,
            dur_ms=50,
            status="error" if err else "ok",
            attrs={"gen_ai.tool.name": f"t{i}", **({"exception.message": "boom"} if err else {})},
            resp_bytes=100,
        )
    t.span("step", turn, start_ms=5000, dur_ms=200, attrs={"gen_ai.request.model": "m"})
    return t.rows()


def governed(tb: Any) -> TraceRows:
    """A run with ledger entries: under their span, at the root, and inside a folded run."""
    t = tb("governed")
    turn = t.span("turn", start_ms=0, dur_ms=9000, attrs={"gen_ai.agent.name": "planner"})
    t.action("run.started", at_ms=-1, actor="orchestrator")
    step = t.span("step", turn, start_ms=10, dur_ms=900, attrs={"gen_ai.request.model": "m"})
    t.action("envelope.accepted", step, at_ms=20, actor="planner")
    t.action("policy.decision", step, at_ms=5, actor="policy")
    for i in range(8):
        t.span(
            "tool-call", turn, start_ms=1000 + i * 100, dur_ms=50, attrs={"gen_ai.tool.name": "t"}
        )
    t.action("budget.warning", "ffffffffffffffff", at_ms=1350, actor="budget")
    t.action("envelope.rejected", turn, at_ms=2000, actor="gate")
    t.action("task.expired", step, at_ms=950)
    t.action("budget.exceeded", turn, at_ms=2100, actor="budget", erased=True)
    t.action("task.completed", turn, at_ms=9500, actor="worker-" + "x" * 60)
    return t.rows()


CASES = {
    "nested": nested,
    "crashed": crashed,
    "unfinished": unfinished,
    "folded": folded,
    "governed": governed,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_skeleton(case: str, tb: Any) -> None:
    """The plain skeleton of each hand-built trace matches its golden file byte for byte."""
    text = render_plain(skeleton(CASES[case](tb)))
    path = GOLDEN / f"{case}.txt"
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_golden_depth_limited(tb: Any) -> None:
    """``--depth 1`` hides grandchildren and says how many lie below."""
    text = render_plain(skeleton(nested(tb), depth=1))
    path = GOLDEN / "nested-depth1.txt"
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()
    assert "(+2 below)" in text


def test_fold_keeps_errors_and_counts(tb: Any) -> None:
    """Folding hides only ok spans here, and the fold line counts exactly the hidden ones."""
    sk = skeleton(folded(tb))
    shown_errors = [ln for ln in sk.lines if ln.span_id and ln.status == "error"]
    assert len(shown_errors) == 2
    fold = [ln for ln in sk.lines if ln.span_id is None]
    assert len(fold) == 1
    assert fold[0].folded == 44 - 3 - 1 - 2
    assert "… 38 more tool-call spans" in fold[0].parts[0][0]


def test_parts_carry_meanings_not_styles(tb: Any) -> None:
    """The skeleton is data: plain text joins the parts, each tagged with what it means."""
    sk = skeleton(crashed(tb))
    lines = render_plain(sk).splitlines()[1:]
    assert [ln.split(" ", 1)[1].strip() for ln in lines] == [
        " ".join(t for t, _ in line.parts) for line in sk.lines
    ]
    assert {"crash", "dur"} <= {meaning for line in sk.lines for _, meaning in line.parts}


def test_json_shape(tb: Any) -> None:
    """The JSON form names every shown span with its depth and status."""
    doc = skeleton_json(skeleton(crashed(tb)))
    assert doc["trace"]["status"] == "crashed"
    assert [ln["status"] for ln in doc["lines"]] == ["unfinished", "ok", "unfinished", "crashed"]
    assert doc["lines"][-1]["text"].startswith("✖ process 4242 exited unexpectedly after span step")


# The fixture is the builder class itself: stateless, safe to share between examples.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(st.sampled_from(["step", "tool-call", "x"]), min_size=1, max_size=60),
    errors=st.lists(st.booleans(), min_size=60, max_size=60),
    depth_of=st.lists(st.integers(0, 3), min_size=60, max_size=60),
)
def test_every_span_shown_or_counted(
    names: list[str], errors: list[bool], depth_of: list[int], tb: Any
) -> None:
    """Each span is either on a line or counted by exactly one fold line or ``below`` note."""
    t = tb("prop")
    root = t.span("turn", start_ms=0, dur_ms=1000)
    stack = [root]
    for i, name in enumerate(names):
        parent = stack[min(depth_of[i], len(stack) - 1)]
        span = t.span(name, parent, start_ms=i + 1, dur_ms=1, status="error" if errors[i] else "ok")
        stack = [*stack[: stack.index(parent) + 1], span]
    sk = skeleton(t.rows())
    shown = sum(1 for ln in sk.lines if ln.span_id)
    folded_count = sum(ln.folded for ln in sk.lines if ln.span_id is None)
    assert shown + folded_count == len(names) + 1


def test_ledger_lines_in_json_and_plain(tb: Any) -> None:
    """Each governed action is one line naming its entry; refusals and failures count as errors."""
    rows = governed(tb)
    sk = skeleton(rows)
    entries = [ln for ln in sk.lines if ln.ledger_id is not None]
    assert sorted(ln.ledger_id for ln in entries) == [e.id for e in rows.ledger]
    assert {ln.ledger_id for ln in entries if ln.status == "error"} == {5, 6, 7}
    assert sum("⛓" in ln for ln in render_plain(sk).splitlines()) == len(entries)
    doc = skeleton_json(sk)
    lines = [ln for ln in doc["lines"] if ln["ledger"] is not None]
    assert [ln["ledger"] for ln in lines] == [1, 3, 2, 6, 4, 5, 7, 8]
    assert lines[0]["text"] == "⛓ #1 run.started by orchestrator"
    assert lines[3]["text"] == "⛓ #6 ✖ task.expired" and lines[3]["status"] == "error"
    assert all(ln["span"] is None for ln in lines)
    assert all(ln["ledger"] is None for ln in doc["lines"] if ln["span"] is not None)


def test_ledger_under_its_span_in_time_order(tb: Any) -> None:
    """An entry sits one level under the span it names, between the children around it in time."""
    sk = skeleton(governed(tb), fold_after=10**9)
    where = {ln.ledger_id: i for i, ln in enumerate(sk.lines) if ln.ledger_id is not None}
    depth = {ln.ledger_id: ln.depth for ln in sk.lines if ln.ledger_id is not None}
    step_at = next(i for i, ln in enumerate(sk.lines) if ln.parts[0][0] == "step")
    assert depth[2] == depth[3] == depth[6] == 2  # under the step
    assert depth[1] == depth[4] == depth[5] == 1  # under the root (none named, or unknown)
    assert step_at < where[3] < where[2] < where[6]  # time order inside the step
    assert where[1] < step_at  # before the step: earlier than it


def test_ledger_only_trace(tb: Any) -> None:
    """A trace known only from the ledger still renders: its entries at the top level."""
    t = tb("ledger-only")
    t.action("run.started", at_ms=0, actor="orchestrator")
    t.action("task.failed", at_ms=5, actor="worker")
    summary = TraceSummary(
        trace_id=t.trace_id,
        root_name="(no spans)",
        root_span_id=None,
        component="",
        start_ns=t.ledger[0].ts_ns,
        end_ns=None,
        span_count=0,
        error_count=0,
        unfinished_count=0,
        status="ok",
    )
    text = render_plain(skeleton(TraceRows(summary, [], [], [], t.ledger)))
    assert text.splitlines()[1:] == [
        "         ⛓ #1 run.started by orchestrator",
        "         ⛓ #2 ✖ task.failed by worker",
    ]
    assert "≥5ms" in text.splitlines()[0] and "actions=2" in text
