"""The instrumented OpenAI client against a real HTTP server on loopback."""

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from orca.capture import Recorder, tool_call
from orca.integrations.openai import InstrumentError, instrument, request_context, settings_of
from orca.records import validate
from orca.testing import FakeProvider, Reply, capture_records

KEY = "sk-proj-Abc123Def456Ghi789Jkl012"
MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fp:
        yield fp


def _client(fp: FakeProvider, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=fp.base_url, max_retries=0, **kw)


def _requests(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(span-open, span-close) of every provider.request span, in order."""
    closes = {r["span"]: r for r in records if r["kind"] == "span-close"}
    return [
        (r, closes.get(r["span"]))
        for r in records
        if r["kind"] == "span-open" and r["name"] == "provider.request"
    ]


def test_recorded_body_is_exactly_what_the_server_received(provider: FakeProvider) -> None:
    """Byte-exactness: the span-open body equals the bytes on the wire, and so does the prefix."""
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        client = instrument(_client(provider), parent=step)
        client.chat.completions.create(model="gpt-4o", messages=MSGS, tools=tools, temperature=0.2)
    ((opened, closed),) = _requests(records)
    wire = provider.requests[0].body
    assert opened["body"].encode() == wire
    assert opened["parent"] == step.span_id
    a = opened["attrs"]
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["http.request.method"] == "POST"
    assert a["url.full"].endswith("/v1/chat/completions")
    assert a["orca.request.bytes"] == len(wire)
    ranges = [tuple(map(int, r.split("-"))) for r in a["orca.prefix.ranges"].split(",")]
    prefix = b"".join(wire[s:e] for s, e in ranges)
    assert len(prefix) == a["orca.prefix.bytes"]
    assert b'"tools"' in prefix and b"be brief" in prefix and b'"hi"' not in prefix
    assert closed is not None and closed["status"] == "ok"
    assert json.loads(closed["body"])["choices"][0]["message"]["content"] == "ok"
    c = closed["attrs"]
    assert c["http.response.status_code"] == 200
    assert c["gen_ai.response.finish_reasons"] == "stop"
    assert c["orca.latency_ms"] >= c["orca.ttfb_ms"] >= 0
    assert c["orca.cost.source"].startswith("genai-prices ") and c["orca.cost.usd"] > 0
    for r in records:
        validate(r)


def test_streaming_is_reassembled_not_recorded_per_chunk(provider: FakeProvider) -> None:
    """A stream is recorded once, reassembled with tool calls, usage and cost, not per chunk."""
    calls = [{"id": "call_9", "name": "lookup", "arguments": '{"q": "weather"}'}]
    usage = {
        "prompt_tokens": 3000,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 2048},
    }
    provider.enqueue(Reply("streamed answer text", tool_calls=calls, usage=usage, chunk_chars=3))
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        client = instrument(_client(provider), parent=step)
        stream = client.chat.completions.create(
            model="gpt-4o", messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
        text = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    assert text == "streamed answer text"
    ((opened, closed),) = _requests(records)
    assert opened["attrs"]["orca.request.stream"] is True
    assert opened["body"].encode() == provider.requests[0].body
    assert closed is not None
    body = json.loads(closed["body"])
    message = body["choices"][0]["message"]
    assert message["content"] == "streamed answer text"
    assert message["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"q": "weather"}',
    }
    assert "data:" not in closed["body"]  # no per-chunk deltas kept
    c = closed["attrs"]
    assert c["orca.stream.chunks"] == body["orca_reassembled_from_chunks"] > 8
    assert "orca.response.complete" not in c
    assert c["orca.tool_calls.requested"] == "call_9"
    assert c["gen_ai.usage.input_tokens"] == 3000
    assert c["gen_ai.usage.cache_read.input_tokens"] == 2048
    assert c["orca.usage.uncached_input_tokens"] == 952
    assert c["orca.cost.usd"] == pytest.approx((952 * 2.5 + 2048 * 1.25 + 20 * 10) / 1e6)


@pytest.mark.parametrize("status", [400, 429, 500])
@pytest.mark.parametrize("stream", [False, True])
def test_http_errors_keep_the_raw_error_body(
    provider: FakeProvider, status: int, stream: bool
) -> None:
    """4xx/5xx answers, plain or streamed, close as error with the body byte for byte."""
    raw = json.dumps(
        {"error": {"message": f"bad thing {status}", "type": "some_error", "code": "x"}}, indent=1
    ).encode()
    provider.enqueue(Reply(status=status, body=raw))
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=stream)
    ((_, closed),) = _requests(records)
    assert closed is not None
    assert closed["status"] == "error"
    assert closed["body"].encode() == raw  # verbatim, indentation and all
    assert closed["attrs"]["http.response.status_code"] == status
    assert closed["attrs"]["error.type"] == "some_error"
    assert closed["attrs"]["error.message"] == f"bad thing {status}"


def test_non_json_error_body(provider: FakeProvider) -> None:
    """An HTML error page is kept as the response body and its status becomes the error type."""
    provider.enqueue(Reply(status=502, body=b"<html>bad gateway</html>"))
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o", messages=MSGS)
    ((_, closed),) = _requests(records)
    assert closed is not None and closed["body"] == "<html>bad gateway</html>"
    assert closed["attrs"]["error.type"] == "502"


def test_connection_refused_closes_the_span_as_failed() -> None:
    """A refused connection still closes the provider span, as an error with a type."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with capture_records() as (rec, records):
        client = instrument(
            openai.OpenAI(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0),
            parent=rec.logger("agent").span("step"),
        )
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="gpt-4o", messages=MSGS)
    ((_, closed),) = _requests(records)
    assert closed is not None and closed["status"] == "error"
    assert "error.type" in closed["attrs"]


def test_retries_are_separate_spans(provider: FakeProvider) -> None:
    """Each SDK retry is its own span: the failed attempt, then the retry with its count."""
    provider.enqueue(
        Reply(status=500, body=b'{"error": {"message": "flaky"}}', headers={"retry-after-ms": "1"})
    )
    with capture_records() as (rec, records):
        client = instrument(
            openai.OpenAI(api_key=KEY, base_url=provider.base_url, max_retries=1),
            parent=rec.logger("agent").span("step"),
        )
        client.chat.completions.create(model="gpt-4o", messages=MSGS)
    spans = _requests(records)
    assert [c["status"] for _, c in spans if c] == ["error", "ok"]
    assert spans[1][0]["attrs"]["http.request.header.x-stainless-retry-count"] == "1"


def test_request_context_sets_parent_conversation_and_warm_send(provider: FakeProvider) -> None:
    """request_context() sets parent, conversation and cache-send for its block only."""
    with capture_records() as (rec, records):
        log = rec.logger("agent")
        step_a, step_b = log.span("step"), log.span("step")
        client = instrument(_client(provider), parent=step_a, conversation_id="conv-1")
        client.chat.completions.create(model="gpt-4o", messages=MSGS)
        with request_context(parent=step_b, conversation_id="conv-2", cache_send="warm"):
            client.chat.completions.create(model="gpt-4o", messages=MSGS)
        with step_b:  # the current span is not used while an explicit parent is set
            client.chat.completions.create(model="gpt-4o", messages=MSGS)
    (a, _), (b, _), (c, _) = _requests(records)
    assert (a["parent"], a["attrs"]["gen_ai.conversation.id"], a["attrs"]["orca.cache.send"]) == (
        step_a.span_id,
        "conv-1",
        "real",
    )
    assert (b["parent"], b["attrs"]["gen_ai.conversation.id"], b["attrs"]["orca.cache.send"]) == (
        step_b.span_id,
        "conv-2",
        "warm",
    )
    assert c["parent"] == step_a.span_id
    assert a["attrs"]["orca.prefix.fingerprint"] == b["attrs"]["orca.prefix.fingerprint"]


def test_current_span_then_logger_root(provider: FakeProvider) -> None:
    """No parent given: the current span; none of that: a new trace from the logger."""
    with capture_records() as (rec, records):
        log = rec.logger("agent")
        client = instrument(_client(provider), logger=log)
        with log.span("step") as step:
            client.chat.completions.create(model="gpt-4o", messages=MSGS)
        client.chat.completions.create(model="gpt-4o", messages=MSGS)
    (inside, _), (root, _) = _requests(records)
    assert inside["parent"] == step.span_id
    assert "parent" not in root and root["trace"] != step.trace_id


def test_nowhere_to_record_passes_through_counted_and_warned_once(provider: FakeProvider) -> None:
    """No parent, current span or logger: every request goes out, each is counted, one warning."""
    bare = instrument(_client(provider))
    with pytest.warns(RuntimeWarning, match="not recorded") as caught:
        for _ in range(3):
            assert bare.chat.completions.create(model="gpt-4o", messages=MSGS).choices
    assert len([w for w in caught if "not recorded" in str(w.message)]) == 1
    settings = settings_of(bare)
    assert settings is not None and settings.unrecorded == 3
    other = instrument(_client(provider))  # another client: its own first warning
    with pytest.warns(RuntimeWarning, match="not recorded"):
        other.chat.completions.create(model="gpt-4o", messages=MSGS)


def test_disabled_recorder_passes_through(provider: FakeProvider) -> None:
    """With recording off, an instrumented client still returns the provider's answer."""
    rec = Recorder.open(enabled=False)
    step = rec.logger("agent").span("step")
    client = instrument(_client(provider), parent=step)
    assert client.chat.completions.create(model="gpt-4o", messages=MSGS).choices[0].message.content


def test_tool_calls_link_to_the_request_that_asked(provider: FakeProvider) -> None:
    """The response's tool call ids are recorded and the tool-call span answering one links back;
    the next request records which calls it carries answers for."""
    calls = [
        {"id": "call_a", "name": "read", "arguments": "{}"},
        {"id": "call_b", "name": "read", "arguments": "{}"},
    ]
    provider.enqueue(Reply("", tool_calls=calls))
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        client = instrument(_client(provider), parent=step)
        resp = client.chat.completions.create(model="gpt-4o", messages=MSGS)
        answered = []
        for call in resp.choices[0].message.tool_calls or []:
            if call.id == "call_b":
                continue  # left unanswered: an orphan
            with tool_call(step, "read", call.id, call.function.arguments) as tc:
                tc.set_result("content")
            answered.append({"role": "tool", "tool_call_id": call.id, "content": "content"})
        follow = [*MSGS, resp.choices[0].message.model_dump(exclude_none=True), *answered]
        client.chat.completions.create(model="gpt-4o", messages=follow)
    (first_open, first_close), (second_open, _) = _requests(records)
    assert first_close is not None
    assert first_close["attrs"]["orca.tool_calls.requested"] == "call_a,call_b"
    assert second_open["attrs"]["orca.tool_calls.answered"] == "call_a"
    links = [r for r in records if r["kind"] == "link"]
    assert [(lk["to_span"], lk["reason"]) for lk in links] == [(first_open["span"], "answers")]


def test_async_client_streaming_and_plain(provider: FakeProvider) -> None:
    """The async client's streamed and plain calls are recorded with the bytes sent."""

    async def run() -> list[dict[str, Any]]:
        with capture_records() as (rec, records):
            step = rec.logger("agent").span("step")
            client = instrument(
                openai.AsyncOpenAI(api_key=KEY, base_url=provider.base_url, max_retries=0),
                parent=step,
            )
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=MSGS, stream=True
            )
            async for _ in stream:
                pass
            await client.chat.completions.create(model="gpt-4o", messages=MSGS)
            await client.close()
        return records

    records = asyncio.run(run())
    spans = _requests(records)
    assert len(spans) == 2
    for (opened, closed), wire in zip(spans, provider.requests, strict=True):
        assert opened["body"].encode() == wire.body
        assert closed is not None and closed["status"] == "ok"
    assert spans[0][1] is not None and spans[0][1]["attrs"]["orca.stream.chunks"] >= 2


def test_caller_closing_a_stream_early_is_marked_incomplete(provider: FakeProvider) -> None:
    """A stream closed by the caller after one chunk is marked response.complete = False."""
    provider.enqueue(Reply("x" * 400, chunk_chars=1))
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        stream = client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=True)
        next(iter(stream))
        stream.close()
    ((_, closed),) = _requests(records)
    assert closed is not None and closed["attrs"].get("orca.response.complete") is False


def test_instrument_twice_does_not_double_record(provider: FakeProvider) -> None:
    """Instrumenting an instrumented client is a no-op: one call, one span, no errors."""
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        client = instrument(instrument(_client(provider), parent=step), parent=step)
        client.chat.completions.create(model="gpt-4o", messages=MSGS)
    assert len(_requests(records)) == 1
    settings = settings_of(client)
    assert settings is not None and settings.errors == 0


def test_instrument_rejects_what_it_cannot_wrap() -> None:
    """instrument() refuses a non-client and an unknown cache_send value with InstrumentError."""
    with pytest.raises(InstrumentError, match="cannot instrument"):
        instrument(object())
    with pytest.raises(InstrumentError, match="cache_send"):
        instrument(openai.OpenAI(api_key="x"), cache_send="tepid")  # type: ignore[arg-type]


def test_plain_httpx_client_can_be_instrumented(provider: FakeProvider) -> None:
    """Any httpx client works: the wrapper is duck-typed over httpx and httpx2."""
    with capture_records() as (rec, records), httpx.Client() as http:
        instrument(http, parent=rec.logger("agent").span("step"))
        body = orjson.dumps({"model": "gpt-4o", "messages": MSGS})
        r = http.post(
            provider.base_url + "/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert r.json()["choices"][0]["message"]["content"] == "ok"
    ((opened, closed),) = _requests(records)
    assert opened["body"].encode() == body and closed is not None
