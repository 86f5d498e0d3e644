"""truncated-output, context-overflow, rate-limited, empty-response: planted, found, bounded."""

import dataclasses
from collections.abc import Callable
from typing import Any

import openai
import pytest

from orca.integrations.openai import instrument
from orca.query import CheckConfig, fmt_duration, run_checks
from orca.testing import FakeProvider, Reply

KEY = "sk-test-000000000000"


def _one(rec: Any, name: str, **cfg: Any) -> Any:
    [result] = run_checks(rec.traces, body=rec.body, only=[name], config=CheckConfig(**cfg))
    return result


def _request(
    log: Any, attrs: dict[str, Any], *, status: str | None = None, body: Any = None
) -> Any:
    """One turn with a step and a hand-recorded provider.request (the public capture API)."""
    with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
        with turn.child("step") as step:
            req = step.child("provider.request", {"gen_ai.request.model": "gpt-4o"})
            req.end(attrs, status=status, body=body)
    return turn


def _openai_turn(script: list[Reply], *, retries: int = 0, after: int = 0) -> Callable[[Any], None]:
    """An agent turn through the instrumented OpenAI client; ``after`` more steps follow it."""

    def agent(log: Any) -> None:
        with FakeProvider(script) as fp:
            client = openai.OpenAI(api_key=KEY, base_url=fp.base_url, max_retries=retries)
            with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
                for _ in range(1 + after):
                    try:
                        with turn.child("step") as step:
                            instrument(client, parent=step)
                            client.chat.completions.create(
                                model="gpt-4o",
                                messages=[{"role": "user", "content": "hi"}],
                                max_tokens=16,
                            )
                    except openai.APIError:
                        pass

    return agent


# --- truncated-output -------------------------------------------------------------------


@pytest.mark.parametrize("reasons", ["length", '["length"]', "stop,max_tokens"])
def test_truncated_output_both_forms(record: Any, reasons: str) -> None:
    """finish_reasons as a string, a JSON array or a comma list: cut off, and the trace ended."""
    rec = record(lambda log: _request(log, {"gen_ai.response.finish_reasons": reasons}))
    result = _one(rec, "truncated-output")
    assert not result.passed
    assert "was cut off at the output limit" in result.verdict
    assert "the trace ended there" in result.verdict


def test_truncated_silent_on_stop_and_config_reasons(record: Any) -> None:
    """``stop`` is fine; a config that only counts max_tokens ignores ``length``."""
    rec = record(lambda log: _request(log, {"gen_ai.response.finish_reasons": "stop"}))
    assert _one(rec, "truncated-output").passed
    rec = record(lambda log: _request(log, {"gen_ai.response.finish_reasons": "length"}))
    assert _one(rec, "truncated-output", truncated_reasons=("max_tokens",)).passed


def test_truncated_through_openai_says_the_trace_went_on(record: Any) -> None:
    """A reply cut at max_tokens, then the agent carries on: the finding says so."""
    script = [Reply(content="The refund policy is", finish_reason="length"), Reply()]
    rec = record(_openai_turn(script, after=1))
    result = _one(rec, "truncated-output")
    [f] = result.findings
    assert "finish_reasons=length" in f.message and "max_tokens=16" in f.message
    assert "the trace went on as if it were complete" in f.message and len(f.span_ids) == 1


# --- context-overflow -------------------------------------------------------------------


def test_context_overflow_through_openai(record: Any) -> None:
    """OpenAI's 400 context_length_exceeded: named on the request, with the token figures."""
    rec = record(_openai_turn([Reply.context_overflow(window=128_000, asked=130_512)]))
    result = _one(rec, "context-overflow")
    [f] = result.findings  # the request only: the step's echo of the message is not repeated
    assert "context window exceeded (131k tokens > 128k) for gpt-4o" in f.message
    [span] = [s for s in rec.traces[0].spans if s.span_id == f.span_ids[0]]
    assert span.name == "provider.request"


@pytest.mark.parametrize(
    "message",
    [
        "prompt is too long: 208310 tokens > 200000 maximum",  # Anthropic
        "input length and `max_tokens` exceed context limit: 197000 + 21333 > 200000",
        "The input exceeds the context window of this model",  # generic
    ],
)
def test_context_overflow_wordings(record: Any, message: str) -> None:
    """Anthropic and generic wordings are recognised too."""
    attrs = {"error.message": message, "http.response.status_code": 400}
    rec = record(lambda log: _request(log, attrs, status="error"))
    assert not _one(rec, "context-overflow").passed


def test_context_overflow_margin_boundary(record: Any) -> None:
    """Input at exactly 95% of gpt-4o's 128k window fires; one token less does not."""
    near = record(lambda log: _request(log, {"gen_ai.usage.input_tokens": 121_600}))
    assert "95% of gpt-4o's 128k context window" in _one(near, "context-overflow").verdict
    below = record(lambda log: _request(log, {"gen_ai.usage.input_tokens": 121_599}))
    assert _one(below, "context-overflow").passed
    custom = {"context_windows": {"gpt-4o": 200_000}}
    assert _one(near, "context-overflow", **custom).passed


# --- rate-limited -----------------------------------------------------------------------


def test_rate_limit_storm_through_openai(record: Any) -> None:
    """Three 429s (the client's two retries) and the step gives up: one rate-limited finding."""
    rec = record(_openai_turn([Reply.rate_limited()] * 3, retries=2))
    [f] = _one(rec, "rate-limited").findings
    assert f.message.startswith("3 consecutive rate-limited responses (429) from gpt-4o in step")
    assert "spent waiting; then step" in f.message and f.message.endswith("gave up")
    assert len(f.span_ids) == 3


def test_rate_limit_boundary_and_config(record: Any) -> None:
    """Two 429s are not a storm; with rate_limit_run = 2 they are."""
    rec = record(_openai_turn([Reply.rate_limited()] * 2, retries=1))
    assert _one(rec, "rate-limited").passed
    assert not _one(rec, "rate-limited", rate_limit_run=2).passed


def test_rate_limit_waiting_time_and_recovery(record: Any) -> None:
    """529 overloaded ×2 and a 'rate limit' error, then a 200: the time until it is named."""

    def agent(log: Any) -> None:
        with log.span("turn") as turn, turn.child("step") as step:
            for attrs in (
                {"http.response.status_code": 529},
                {"http.response.status_code": 529},
                {"error.message": "Rate limit exceeded, retry later"},
            ):
                step.child("provider.request", attrs).end(status="error")
            step.child("provider.request", {"http.response.status_code": 200}).end()

    rec = record(agent)
    [f] = _one(rec, "rate-limited").findings
    reqs = [s for s in rec.traces[0].spans if s.name == "provider.request"]
    waited = fmt_duration(reqs[3].start_ns - reqs[0].start_ns)
    assert "3 consecutive rate-limited responses (529/error) in step" in f.message
    assert f"{waited} spent waiting; then provider.request {reqs[3].span_id[:8]} succeeded" in (
        f.message
    )


# --- empty-response ---------------------------------------------------------------------


def test_empty_response_through_openai(record: Any) -> None:
    """An empty completion (0 output tokens) and a content-filter stop are both found."""
    rec = record(_openai_turn([Reply(content=""), Reply(finish_reason="content_filter")], after=1))
    findings = _one(rec, "empty-response").findings
    assert [f.message.split(" ", 2)[2] for f in findings] == [
        "returned no output tokens",
        "refused (finish_reasons=content_filter)",
    ]


def test_empty_response_from_the_body(record: Any) -> None:
    """No usage recorded: the response body decides (a refusal, empty content, real content)."""
    refusal = b'{"choices": [{"message": {"content": null, "refusal": "I cannot help"}}]}'
    empty = b'{"choices": [{"message": {"content": "  "}}]}'
    fine = b'{"choices": [{"message": {"content": "Hello"}}]}'
    found = []
    # No usage at all, or one output token (the end-of-text token of an empty answer).
    for usage in ({}, {"gen_ai.usage.output_tokens": 1}):
        for body in (refusal, empty, fine):
            rec = record(lambda log, b=body, u=usage: _request(log, u, body=b))
            found.append(_one(rec, "empty-response").verdict)
    assert "refused: I cannot help" in found[0] and "refused: I cannot help" in found[3]
    assert "returned empty content" in found[1] and "returned empty content" in found[4]
    assert found[2] == found[5] == "every provider response had content"


# --- the same causes through the Anthropic client ---------------------------------------


def _anthropic_turn(script: list[Reply], *, retries: int = 0) -> Callable[[Any], None]:
    def agent(log: Any) -> None:
        import anthropic

        from orca.integrations.anthropic import instrument as instrument_anthropic

        with FakeProvider(script) as fp:
            client = anthropic.Anthropic(
                api_key=KEY, base_url=f"http://127.0.0.1:{fp.port}", max_retries=retries
            )
            try:
                with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
                    with turn.child("step") as step:
                        instrument_anthropic(client, parent=step)
                        client.messages.create(
                            model="claude-sonnet-4",
                            max_tokens=16,
                            messages=[{"role": "user", "content": "hi"}],
                        )
            except anthropic.APIError:
                pass
            finally:
                client.close()

    return agent


def test_anthropic_wordings_and_stop_reasons(record: Any) -> None:
    """prompt too long → context-overflow; 529 ×3 → rate-limited; max_tokens → truncated."""
    too_long = Reply.anthropic_error(
        400, "prompt is too long: 208310 tokens > 200000 maximum", "invalid_request_error"
    )
    rec = record(_anthropic_turn([too_long]))
    assert "(208k tokens > 200k) for claude-sonnet-4" in _one(rec, "context-overflow").verdict
    busy = dataclasses.replace(Reply.overloaded(), headers={"retry-after-ms": "1"})
    rec = record(_anthropic_turn([busy] * 3, retries=2))
    assert _one(rec, "rate-limited").verdict.startswith(
        "3 consecutive rate-limited responses (529)"
    )
    rec = record(_anthropic_turn([Reply(content="The answer is", finish_reason="max_tokens")]))
    assert "finish_reasons=max_tokens" in _one(rec, "truncated-output").verdict
