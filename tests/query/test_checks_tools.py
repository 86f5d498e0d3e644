"""tool-loop: the same tool with the same input again and again, or a short cycle repeating."""

import json
from typing import Any

import openai
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.capture import tool_call
from orca.integrations.openai import instrument
from orca.query import CheckConfig, run_checks
from orca.testing import FakeProvider, Reply


def _calls(log: Any, calls: list[tuple[str, str]]) -> None:
    with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
        for i, (tool, arg) in enumerate(calls):
            with tool_call(turn, tool, f"call_{i}", input=arg) as call:
                call.set_result("not found")


def _loop(record: Any, calls: list[tuple[str, str]], **cfg: Any) -> Any:
    rec = record(lambda log: _calls(log, calls))
    [result] = run_checks(rec.traces, only=["tool-loop"], config=CheckConfig(**cfg))
    return rec, result


def test_same_input_three_times_fires(record: Any) -> None:
    """Three calls of one tool with one input: a finding naming the tool, count and digest."""
    rec, result = _loop(record, [("lookup", '{"q": 1}')] * 3)
    assert not result.passed
    [f] = result.findings
    assert "tool lookup called 3× with the same input (sha256 " in f.message
    calls = [s.span_id for s in rec.traces[0].spans if s.name == "tool-call"]
    assert f.span_ids == calls and f.next == f"orca span {calls[0][:8]}"


def test_two_repeats_or_different_inputs_are_silent(record: Any) -> None:
    """Below the threshold, or with different inputs, the check passes."""
    assert _loop(record, [("lookup", '{"q": 1}')] * 2)[1].passed
    assert _loop(record, [("lookup", f'{{"q": {i}}}') for i in range(5)])[1].passed


def test_threshold_from_config_is_exact(record: Any) -> None:
    """tool_loop_repeats = 4: three repeats pass, four fail."""
    assert _loop(record, [("lookup", "x")] * 3, tool_loop_repeats=4)[1].passed
    assert not _loop(record, [("lookup", "x")] * 4, tool_loop_repeats=4)[1].passed


def test_cycle_of_two_tools_repeating(record: Any) -> None:
    """search → read → search → read → search → read is reported once, as a cycle."""
    _, result = _loop(record, [("search", "s"), ("read", "r")] * 3)
    [f] = result.findings
    assert "tool calls search → read repeated 3× in a row" in f.message
    assert len(f.span_ids) == 6
    assert _loop(record, [("search", "s"), ("read", "r")] * 2)[1].passed


def test_loop_through_the_openai_client(home: Any, record: Any) -> None:
    """The model asks for the same lookup three times; the agent obeys: tool-loop fires."""
    ask = {"name": "lookup_order", "arguments": '{"order": "A-17"}'}
    script = [Reply(tool_calls=[{**ask, "id": f"call_{i}"}]) for i in range(3)]

    def agent(log: Any) -> None:
        with FakeProvider([*script, Reply(content="done")]) as fp:
            client = instrument(
                openai.OpenAI(api_key="sk-test-000000000000", base_url=fp.base_url, max_retries=0)
            )
            with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
                messages: list[Any] = [{"role": "user", "content": "where is A-17?"}]
                for _ in range(4):
                    with turn.child("step") as step:
                        instrument(client, parent=step)
                        resp = client.chat.completions.create(model="gpt-4o", messages=messages)
                    msg = resp.choices[0].message
                    if not msg.tool_calls:
                        break
                    for tc in msg.tool_calls:
                        with tool_call(turn, tc.function.name, tc.id, tc.function.arguments) as c:
                            c.set_result(json.dumps({"error": "timeout"}))
                        messages.append({"role": "tool", "tool_call_id": tc.id, "content": "?"})

    rec = record(agent)
    [result] = run_checks(rec.traces, only=["tool-loop"])
    assert not result.passed and "lookup_order called 3×" in result.verdict


def _rows(tb: Any, keys: list[int]) -> Any:
    t = tb("cycle")
    turn = t.span("turn")
    for i, k in enumerate(keys):
        t.span(
            "tool-call",
            turn,
            start_ms=i,
            attrs={"gen_ai.tool.name": f"t{k}", "gen_ai.tool.call.arguments": "{}"},
        )
    return t.rows()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 3), max_size=14))
def test_every_reported_cycle_really_repeats(tb: Any, keys: list[int]) -> None:
    """Soundness: each finding's calls are a block of tools repeated ≥ 3 times, or one tool ≥ 3×."""
    trace = _rows(tb, keys)
    names = {s.span_id: str(s.attrs.get("gen_ai.tool.name")) for s in trace.spans}
    [result] = run_checks([trace], only=["tool-loop"])
    for f in result.findings:
        seq = [names[i] for i in f.span_ids]
        if len(set(seq)) == 1:
            assert len(seq) >= 3
            continue
        n = next(n for n in range(2, 5) if len(seq) % n == 0 and seq == seq[:n] * (len(seq) // n))
        assert len(seq) // n >= 3
    counts = {k: keys.count(k) for k in set(keys)}
    assert result.passed == (max(counts.values(), default=0) < 3)
