"""Each check fires on a trace built to have its defect and stays silent on a clean one."""

import dataclasses
import json
from typing import Any

import pytest

from orca.query import CHECKS, CheckError, checks_json, render_checks, run_checks
from orca.store import TraceRows

# The first catalog; the checks added since have their own test modules.
V1 = [
    "crashed",
    "unfinished-span",
    "orphan-tool-call",
    "duplicate-delivery",
    "misrouted",
    "cache-bust",
    "error-span",
    "slow-span",
]
TOOLS_A = [{"name": "read", "parameters": {"type": "object", "properties": {}}}]


def _body(tools: list[dict[str, Any]], messages: list[str]) -> bytes:
    return json.dumps({"model": "m", "tools": tools, "messages": messages}).encode()


def clean(tb: Any) -> TraceRows:
    """A healthy turn: requests answered, one delivery per message, stable prefix."""
    t = tb("clean")
    turn = t.span("turn", start_ms=0, dur_ms=100, attrs={"gen_ai.conversation.id": "c1"})
    t.span(
        "provider.request",
        turn,
        start_ms=1,
        dur_ms=10,
        attrs={
            "orca.tool_calls.requested": "call_1",
            "orca.prefix.fingerprint": "f1",
            "orca.prefix.ranges": "0-40",
        },
        request_body="ra",
    )
    t.span("tool-call", turn, start_ms=12, dur_ms=5, attrs={"gen_ai.tool.call.id": "call_1"})
    t.span(
        "provider.request",
        turn,
        start_ms=20,
        dur_ms=10,
        attrs={"orca.prefix.fingerprint": "f2", "orca.prefix.ranges": "0-50"},
        request_body="rb",
    )
    t.span(
        "queue.enqueue",
        turn,
        start_ms=40,
        dur_ms=1,
        attrs={"messaging.message.id": "m1", "orca.queue.target_conversation": "c2"},
    )
    t.span(
        "queue.deliver",
        turn,
        start_ms=42,
        dur_ms=1,
        attrs={"messaging.message.id": "m1", "gen_ai.conversation.id": "c2"},
    )
    return t.rows()


def clean_bodies() -> dict[str, bytes]:
    """The second request only appends to the first: the cached prefix survives."""
    a = _body(TOOLS_A, ["hi"])
    b = a[:-2] + b', "more"]}'
    return {"ra": a, "rb": b}


def defect(tb: Any, name: str) -> tuple[TraceRows, dict[str, bytes]]:
    t = tb(f"defect-{name}")
    turn = t.span("turn", start_ms=0, dur_ms=100, attrs={"gen_ai.conversation.id": "c1"})
    bodies: dict[str, bytes] = {}
    if name == "crashed":
        step = t.span("step", turn, start_ms=1, dur_ms=None)
        t.crash(step, start_ms=50)
    elif name == "unfinished-span":
        t.span("tool-call", turn, start_ms=1, dur_ms=None)
    elif name == "orphan-tool-call":
        t.span("provider.request", turn, attrs={"orca.tool_calls.requested": "call_1,call_2"})
        t.span("tool-call", turn, start_ms=12, attrs={"gen_ai.tool.call.id": "call_1"})
    elif name == "duplicate-delivery":
        for i in range(2):
            t.span("queue.deliver", turn, start_ms=i, attrs={"messaging.message.id": "m1"})
    elif name == "misrouted":
        t.span(
            "queue.enqueue",
            turn,
            attrs={"messaging.message.id": "m1", "orca.queue.target_conversation": "c2"},
        )
        t.span(
            "queue.deliver",
            turn,
            start_ms=2,
            attrs={"messaging.message.id": "m1", "gen_ai.conversation.id": "c3"},
        )
    elif name == "cache-bust":
        reordered = [{"parameters": {"properties": {}, "type": "object"}, "name": "read"}]
        bodies = {"ra": _body(TOOLS_A, ["hi"]), "rb": _body(reordered, ["hi"])}
        for i, (ref, fp) in enumerate((("ra", "f1"), ("rb", "f2"))):
            t.span(
                "provider.request",
                turn,
                start_ms=i * 10,
                attrs={"orca.prefix.fingerprint": fp, "orca.prefix.ranges": "0-60"},
                request_body=ref,
            )
    elif name == "error-span":
        t.span("tool-call", turn, status="error", attrs={"exception.message": "exit 2"})
    elif name == "slow-span":
        for i in range(30):
            t.span("step", turn, start_ms=i, dur_ms=10)
        t.span("step", turn, start_ms=40, dur_ms=500)
    elif name in ORCHESTRATED_DEFECTS:
        for i, (kind, args, result) in enumerate(ORCHESTRATED_DEFECTS[name]):
            row = t.action(kind, turn, at_ms=i, actor="billing")
            t.ledger[-1] = dataclasses.replace(row, args=args, result=result)
    return t.rows(), bodies


# The ledger entries an orchestrated run leaves for each defect (the orchestrator's own
# tests produce them for real: tests/query/test_checks_orchestrated.py).
ORCHESTRATED_DEFECTS: dict[str, list[tuple[str, Any, Any]]] = {
    "dead-letter": [("task.dead_lettered", {"task": "t1", "attempt": 5, "reason": "x"}, None)],
    "retry-storm": [("task.claimed", {"task": "t1", "attempt": n}, None) for n in (1, 2, 3)],
    "expired-task": [("task.expired", {"task": "t1"}, None)],
    "stuck-lease": [("task.lease_expired", {"task": "t1", "heartbeats": 0}, None)] * 2,
    "idempotency-conflict": [
        ("envelope.rejected", {"id": "e1"}, {"code": "idempotency-conflict", "reason": "x"})
    ],
}


@pytest.mark.parametrize("name", V1 + list(ORCHESTRATED_DEFECTS))
def test_check_fires_on_its_defect(name: str, tb: Any) -> None:
    """The check fails on its defect, naming the span ids that prove it."""
    trace, bodies = defect(tb, name)
    [result] = run_checks([trace], body=bodies.get, only=[name])
    assert not result.passed, result
    assert result.findings and all(f.span_ids for f in result.findings)
    ids = {s.span_id for s in trace.spans}
    assert all(i in ids for f in result.findings for i in f.span_ids)


@pytest.mark.parametrize("name", V1 + list(ORCHESTRATED_DEFECTS))
def test_check_silent_on_clean(name: str, tb: Any) -> None:
    """The same check passes on a healthy turn."""
    [result] = run_checks([clean(tb)], body=clean_bodies().get, only=[name])
    assert result.passed, result


def test_cache_bust_names_offset(tb: Any) -> None:
    """The cache-bust verdict names the first differing byte offset of the two requests."""
    trace, bodies = defect(tb, "cache-bust")
    [result] = run_checks([trace], body=bodies.get, only=["cache-bust"])
    a, b = bodies["ra"], bodies["rb"]
    off = next(i for i in range(min(len(a), len(b))) if a[i] != b[i])
    assert f"offset {off}" in result.verdict


def test_orphan_names_the_missing_call(tb: Any) -> None:
    """The orphan-tool-call verdict names the call without a result, not the answered one."""
    trace, _ = defect(tb, "orphan-tool-call")
    [result] = run_checks([trace], only=["orphan-tool-call"])
    assert "call_2" in result.verdict and "call_1" not in result.verdict


def test_duplicate_delivery_across_traces(tb: Any) -> None:
    """Two traces each delivering the same message once: a duplicate only seen together."""
    traces = []
    for seed in ("x", "y"):
        t = tb(seed)
        turn = t.span("turn")
        t.span("queue.deliver", turn, attrs={"messaging.message.id": "m9"})
        traces.append(t.rows())
    assert run_checks(traces[:1], only=["duplicate-delivery"])[0].passed
    assert not run_checks(traces, only=["duplicate-delivery"])[0].passed


def test_render_and_json(tb: Any) -> None:
    """Text: one line per check plus proof lines; JSON: the documented shape."""
    trace, _ = defect(tb, "error-span")
    results = run_checks([trace])
    text = render_checks(results, [trace])
    assert "✖  error-span" in text and f"1 of {len(CHECKS)} checks failed" in text
    doc = checks_json(results, [trace])
    assert doc["passed"] is False
    assert [c["name"] for c in doc["checks"]] == list(CHECKS)


def test_unknown_check_is_a_clear_error() -> None:
    """Asking for a check that does not exist names it and lists the known ones."""
    with pytest.raises(CheckError, match="unknown check 'nope'"):
        run_checks([], only=["nope"])
