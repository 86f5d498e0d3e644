"""tool_call and prompt_assembly: the GenAI helpers of orca.capture."""

from typing import Any

import orjson
import pytest

from orca.capture import Recorder, note_tool_requests, prompt_assembly, tool_call, tool_requester
from orca.records import validate
from orca.testing import capture_records


def _by_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def test_tool_call_records_input_result_and_duration() -> None:
    """tool_call() records a child span with tool name, call id, input, result and duration."""
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        with tool_call(step, "read_file", "call_1", {"path": "a.txt"}) as tc:
            tc.set_result("file contents")
        step.end()
    for r in records:
        validate(r)
    opened = next(r for r in records if r.get("name") == "tool-call")
    closed = next(r for r in _by_kind(records, "span-close") if r["span"] == opened["span"])
    assert opened["parent"] == step.span_id
    assert opened["attrs"]["gen_ai.tool.name"] == "read_file"
    assert opened["attrs"]["gen_ai.tool.call.id"] == "call_1"
    assert orjson.loads(opened["body"]) == {"path": "a.txt"}
    assert closed["body"] == "file contents" and closed["status"] == "ok"
    assert closed["attrs"]["orca.tool.is_error"] is False
    assert closed["attrs"]["orca.tool.duration_ms"] >= 0


def test_tool_reported_error_and_raised_error() -> None:
    """A tool's reported error closes ok with is_error; a raised one closes as error."""
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        with tool_call(step, "grep", "c1", "x") as tc:
            tc.set_result("no such file", is_error=True)
        with pytest.raises(RuntimeError), tool_call(step, "boom", "c2", None):
            raise RuntimeError("tool crashed")
    closes = _by_kind(records, "span-close")
    assert closes[0]["status"] == "ok" and closes[0]["attrs"]["orca.tool.is_error"] is True
    assert closes[1]["status"] == "error" and closes[1]["attrs"]["orca.tool.is_error"] is True
    assert closes[1]["attrs"]["exception.message"] == "tool crashed"


def test_tool_call_links_to_the_request_that_asked_for_it() -> None:
    """A call id noted from a provider response is answered by a link with reason 'answers'."""
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        asking = step.child("provider.request")
        asking.end()
        note_tool_requests(asking, ["call_linked"])
        with tool_call(step, "t", "call_linked", {}):
            pass
        with tool_call(step, "t", "call_never_requested_here", {}):
            pass
    links = _by_kind(records, "link")
    assert len(links) == 1
    link = links[0]
    assert (link["to_trace"], link["to_span"], link["reason"]) == (
        asking.trace_id,
        asking.span_id,
        "answers",
    )
    tool_span = next(r for r in records if r.get("name") == "tool-call")
    assert link["span"] == tool_span["span"]


def test_prompt_assembly_segments_and_totals() -> None:
    """prompt_assembly() records segment sizes, refs and totals, never the prompt text."""
    segments = [
        {
            "contributor": "core",
            "kind": "persona",
            "role": "system",
            "message": 0,
            "start": 0,
            "text": "You are helpful.",
        },
        {
            "contributor": "web",
            "kind": "skill",
            "role": "system",
            "message": 0,
            "start": 16,
            "chars": 400,
        },
        {"contributor": "fs", "kind": "tool-def", "tool": 0, "chars": 300},
        {
            "contributor": "user",
            "kind": "user-msg",
            "role": "user",
            "ref": "/messages/1/content",
            "chars": 12,
        },
    ]
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        prompt_assembly(step, segments)
    opened = next(r for r in records if r.get("name") == "prompt.assembly")
    attrs = opened["attrs"]
    segs = orjson.loads(attrs["orca.prompt.segments"])
    assert [s["kind"] for s in segs] == ["persona", "skill", "tool-def", "user-msg"]
    assert segs[0] == {
        "contributor": "core",
        "kind": "persona",
        "chars": 16,
        "role": "system",
        "ref": "/messages/0/content#0-16",
    }
    assert "You are" not in attrs["orca.prompt.segments"]  # measured, never copied
    assert segs[1]["ref"] == "/messages/0/content#16-416"
    assert segs[2]["ref"] == "/tools/0"
    assert attrs["orca.prompt.chars.skill"] == 400
    assert attrs["orca.prompt.chars"] == 16 + 400 + 300 + 12
    assert attrs["orca.prompt.segment_count"] == 4
    assert any(r["kind"] == "span-close" and r["span"] == opened["span"] for r in records)


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "persona", "chars": 1},
        {"contributor": "x", "chars": 1},
        {"contributor": "x", "kind": "k"},
        {"contributor": "x", "kind": "k", "chars": -1},
    ],
)
def test_prompt_assembly_rejects_bad_segments(bad: dict[str, Any]) -> None:
    """A segment lacking contributor, kind or a size >= 0 is refused, naming its index."""
    with capture_records() as (rec, _):
        step = rec.logger("agent").span("step")
        with pytest.raises(ValueError, match="segment 0"):
            prompt_assembly(step, [bad])


def test_tool_requests_belong_to_their_recorder() -> None:
    """A call id noted by one recorder's request is not linked by another recorder's tool call."""
    with capture_records() as (rec_a, records_a), capture_records() as (rec_b, records_b):
        step_a = rec_a.logger("agent").span("step")
        asking = step_a.child("provider.request")
        note_tool_requests(asking, ["call_shared"])
        assert rec_a.tool_requests.asked_by("call_shared") == (asking.trace_id, asking.span_id)
        assert rec_b.tool_requests.asked_by("call_shared") is None
        with tool_call(rec_b.logger("other").span("step"), "t", "call_shared", {}):
            pass
        with tool_call(step_a, "t", "call_shared", {}):
            pass
    assert _by_kind(records_b, "link") == []
    assert [link["to_span"] for link in _by_kind(records_a, "link")] == [asking.span_id]


def test_disabled_recorder_keeps_no_tool_requests() -> None:
    """Noting ids on a disabled recorder's span keeps nothing and links nothing."""
    rec = Recorder.open(enabled=False)
    step = rec.logger("agent").span("step")
    note_tool_requests(step, ["call_x"])
    assert tool_requester(step, "call_x") is None and len(rec.tool_requests) == 0
