"""context-bloat, model-switch and cost-spike: planted, found, and exact at the boundary."""

from typing import Any

import openai
import pytest

from orca.integrations.openai import instrument, request_context
from orca.query import CheckConfig, run_checks
from orca.testing import FakeProvider, Reply


def _one(rec: Any, name: str, **cfg: Any) -> Any:
    [result] = run_checks(rec.traces, body=rec.body, only=[name], config=CheckConfig(**cfg))
    return result


def _growing(log: Any, tokens: list[int]) -> None:
    with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
        for n in tokens:
            with turn.child("step") as step:
                step.child("provider.request", {"gen_ai.request.model": "m"}).end(
                    {"gen_ai.usage.input_tokens": n}
                )


@pytest.mark.parametrize(("last", "fires"), [(2000, False), (2001, True)])
def test_context_bloat_boundary(record: Any, last: int, fires: bool) -> None:
    """More than 2× over 5 requests fires; exactly 2× does not."""
    rec = record(lambda log: _growing(log, [1000, 1200, 1500, 1800, last]))
    result = _one(rec, "context-bloat")
    assert result.passed is not fires
    if fires:
        assert "input tokens grew 1,000 → 2,001 (2.00×) over 5 requests" in result.verdict


def test_context_bloat_needs_five_requests(record: Any) -> None:
    """Four requests are not a window of five, however fast they grow; the config can say 4."""
    rec = record(lambda log: _growing(log, [1000, 3000, 5000, 9000]))
    assert _one(rec, "context-bloat").passed
    assert not _one(rec, "context-bloat", context_bloat_steps=4).passed


def _tool_loop_agent(log: Any, *, new_user_each_step: bool) -> None:
    """Each step re-sends the whole history plus a big tool output (the OpenAI client)."""
    with FakeProvider(default=Reply(content="next")) as fp:
        client = instrument(
            openai.OpenAI(api_key="sk-test-000000000000", base_url=fp.base_url, max_retries=0)
        )
        with log.span("turn", {"gen_ai.conversation.id": "c9"}) as turn:
            messages: list[Any] = [{"role": "user", "content": "summarise the logs"}]
            for i in range(5):
                with turn.child("step") as step, request_context(parent=step):
                    client.chat.completions.create(model="gpt-4o", messages=messages)
                messages.append({"role": "assistant", "content": f"reading part {i}"})
                role = "user" if new_user_each_step else "tool"
                messages.append({"role": role, "content": "log line " * 120, "tool_call_id": "t"})


def test_context_bloat_through_openai(record: Any) -> None:
    """History re-sent with tool output and no new user message: found, with a diff to run."""
    rec = record(lambda log: _tool_loop_agent(log, new_user_each_step=False))
    [f] = _one(rec, "context-bloat").findings
    assert f.message.startswith("conversation c9: input tokens grew")
    assert f.next == f"orca diff {f.span_ids[0][:8]} {f.span_ids[-1][:8]}"


def test_context_bloat_silent_when_the_user_speaks(record: Any) -> None:
    """The same growth with a new user message every step is a conversation, not bloat."""
    rec = record(lambda log: _tool_loop_agent(log, new_user_each_step=True))
    assert _one(rec, "context-bloat").passed


def _two_models(models: tuple[str, str]) -> Any:
    def agent(log: Any) -> None:
        with FakeProvider() as fp:
            client = instrument(
                openai.OpenAI(api_key="sk-test-000000000000", base_url=fp.base_url),
                conversation_id="c2",
            )
            with log.span("turn") as turn, request_context(parent=turn):
                for m in models:
                    client.chat.completions.create(
                        model=m, messages=[{"role": "user", "content": "hi"}]
                    )

    return agent


def test_model_switch_through_openai(record: Any) -> None:
    """gpt-4o then gpt-4o-mini in one conversation: named, with the diff of the two requests."""
    rec = record(_two_models(("gpt-4o", "gpt-4o-mini")))
    [f] = _one(rec, "model-switch").findings
    assert "conversation c2 switched model gpt-4o → gpt-4o-mini at provider.request" in f.message
    assert f.next == f"orca diff {f.span_ids[0][:8]} {f.span_ids[1][:8]}"
    assert _one(record(_two_models(("gpt-4o", "gpt-4o"))), "model-switch").passed


def _priced(log: Any, costs: list[float]) -> None:
    for c in costs:
        with log.span("turn") as turn:
            turn.child("provider.request", {"gen_ai.request.model": "m"}).end(
                {"gen_ai.usage.input_tokens": 100, "orca.cost.usd": c}
            )


@pytest.mark.parametrize(("spike", "fires"), [(0.03, False), (0.0301, True)])
def test_cost_spike_boundary(record: Any, spike: float, fires: bool) -> None:
    """Twenty turns at $0.01: a $0.0301 turn is a spike, a $0.03 one (exactly 3×) is not."""
    rec = record(lambda log: _priced(log, [0.01] * 20 + [spike]))
    result = _one(rec, "cost-spike")
    assert result.passed is not fires and result.note is None
    if fires:
        [f] = result.findings
        assert "cost $0.03, 3.01× the p95 of 21 turn traces ($0.01)" in f.message
        assert f.next.startswith("orca trace ")


def test_cost_spike_skipped_with_a_note_below_twenty(record: Any) -> None:
    """Nineteen traces are too few for a p95: no finding, a note that says why."""
    rec = record(lambda log: _priced(log, [0.01] * 18 + [1.0]))
    result = _one(rec, "cost-spike")
    assert result.passed and result.note is not None
    assert "fewer than 20 traces of their root name" in result.note and "turn (19)" in result.note


def test_model_switch_with_the_capture_api(record: Any) -> None:
    """Hand-recorded requests of one conversation: a switch is found, a steady model is not."""

    def agent(log: Any, models: tuple[str, ...]) -> None:
        with log.span("turn", {"gen_ai.conversation.id": "c3"}) as turn:
            for m in models:
                turn.child("provider.request", {"gen_ai.request.model": m}).end()

    rec = record(lambda log: agent(log, ("claude-sonnet-4", "claude-sonnet-4", "claude-opus-4")))
    [f] = _one(rec, "model-switch").findings
    assert "switched model claude-sonnet-4 → claude-opus-4" in f.message
    assert _one(record(lambda log: agent(log, ("m", "m", "m"))), "model-switch").passed


def test_cost_spike_through_openai(record: Any) -> None:
    """Provider-reported costs: twenty $0.01 turns and one $0.50 turn; the spike is named."""

    def agent(log: Any) -> None:
        script = [Reply(cost=0.01) for _ in range(20)] + [Reply(cost=0.5)]
        with FakeProvider(script) as fp:
            client = openai.OpenAI(api_key="sk-test-000000000000", base_url=fp.base_url)
            for _ in script:
                with log.span("turn") as turn:
                    instrument(client, parent=turn)
                    client.chat.completions.create(
                        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
                    )

    [f] = _one(record(agent), "cost-spike").findings
    assert "cost $0.50, 50.00× the p95 of 21 turn traces ($0.01)" in f.message
