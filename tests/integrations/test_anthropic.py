"""The instrumented Anthropic client against the fake provider's ``/v1/messages`` on loopback."""

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from click.testing import CliRunner

from orca.capture import Recorder, tool_call
from orca.cli import cli
from orca.collector import Collector
from orca.integrations.anthropic import instrument, settings_of
from orca.records import validate
from orca.store import SQLiteStore, store_path
from orca.testing import FakeProvider, Reply, capture_records

KEY = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0"
HEADER_KEY = "sk-ant-admin01-Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8"
MODEL = "claude-sonnet-4-20250514"
SYSTEM = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
TOOLS = [{"name": "lookup", "description": "Look up", "input_schema": {"type": "object"}}]
CACHE_USAGE = {
    "input_tokens": 50,
    "cache_creation_input_tokens": 2000,
    "cache_read_input_tokens": 3000,
    "output_tokens": 40,
}
# claude-sonnet-4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens
CACHE_COST = (50 * 3.00 + 3000 * 0.30 + 2000 * 3.75 + 40 * 15.00) / 1e6


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fp:
        yield fp


_OPEN: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every client a test made: its pooled sockets must not outlive the test."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(fp: FakeProvider) -> anthropic.Anthropic:
    client = anthropic.Anthropic(
        api_key=KEY,
        base_url=f"http://127.0.0.1:{fp.port}",
        max_retries=0,
        default_headers={"x-api-key": HEADER_KEY},
    )
    _OPEN.append(client)
    return client


def _requests(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    closes = {r["span"]: r for r in records if r["kind"] == "span-close"}
    return [
        (r, closes[r["span"]])
        for r in records
        if r["kind"] == "span-open" and r["name"] == "provider.request"
    ]


def test_create_records_the_exact_bytes_usage_cost_and_tool_use(provider: FakeProvider) -> None:
    """JSON call: body byte for byte, cache usage mapped, cost priced, tool_use ids noted."""
    calls = [{"id": "toolu_01", "name": "lookup", "arguments": '{"q": "x"}'}]
    provider.enqueue(Reply("checking", tool_calls=calls, usage=CACHE_USAGE))
    with capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        client = instrument(_client(provider), parent=step)
        msg = client.messages.create(
            model=MODEL,
            max_tokens=256,
            system=SYSTEM,
            tools=TOOLS,
            messages=[{"role": "user", "content": "hi"}],
        )
    assert msg.content[1].type == "tool_use"
    ((opened, closed),) = _requests(records)
    assert opened["body"].encode() == provider.requests[0].body
    a = opened["attrs"]
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.request.model"] == MODEL and a["gen_ai.request.max_tokens"] == 256
    assert a["url.full"].endswith("/v1/messages")
    assert a["orca.prefix.breakpoint"] is True
    (bp,) = json.loads(a["orca.prefix.breakpoints"])
    assert bp["at"] == "system[0]" and bp["bytes"] == a["orca.prefix.bytes"]
    c = closed["attrs"]
    assert closed["status"] == "ok"
    assert c["gen_ai.response.finish_reasons"] == "tool_use"
    assert c["orca.tool_calls.requested"] == "toolu_01"
    assert c["gen_ai.usage.input_tokens"] == 5050
    assert c["gen_ai.usage.cache_read.input_tokens"] == 3000
    assert c["gen_ai.usage.cache_write.input_tokens"] == 2000
    assert c["orca.usage.uncached_input_tokens"] == 50
    assert c["gen_ai.usage.output_tokens"] == 40
    assert c["orca.cost.source"].startswith("genai-prices ")  # its published price
    assert c["orca.cost.usd"] == pytest.approx(CACHE_COST)
    assert json.loads(closed["body"])["content"][1]["id"] == "toolu_01"
    for r in records:
        validate(r)


def test_messages_stream_is_reassembled_from_events(provider: FakeProvider) -> None:
    """messages.stream: text and tool input rebuilt from deltas, usage from both ends."""
    calls = [{"id": "toolu_02", "name": "lookup", "arguments": '{"q": "a longer query"}'}]
    provider.enqueue(Reply("streamed answer", tool_calls=calls, usage=CACHE_USAGE, chunk_chars=3))
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        with client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            final = stream.get_final_message()
    assert final.content[0].text == "streamed answer"  # type: ignore[union-attr]
    ((opened, closed),) = _requests(records)
    assert opened["body"].encode() == provider.requests[0].body
    assert opened["attrs"]["orca.request.stream"] is True
    body = json.loads(closed["body"])
    assert "content_block_delta" not in closed["body"]  # no per-delta record
    assert body["content"][0] == {"type": "text", "text": "streamed answer"}
    assert body["content"][1]["input"] == {"q": "a longer query"}
    assert body["stop_reason"] == "tool_use"
    c = closed["attrs"]
    assert c["orca.stream.chunks"] == body["orca_reassembled_from_chunks"] > 10
    assert "orca.response.complete" not in c
    assert c["gen_ai.usage.output_tokens"] == 40  # from message_delta
    assert c["gen_ai.usage.cache_read.input_tokens"] == 3000  # from message_start
    assert c["orca.cost.usd"] == pytest.approx(CACHE_COST)
    assert c["orca.tool_calls.requested"] == "toolu_02"


def test_async_client_create_and_stream(provider: FakeProvider) -> None:
    """AsyncAnthropic goes through the same transport: both calls recorded verbatim."""
    provider.enqueue(Reply("one"), Reply("two", chunk_chars=2))

    async def main(step: Any) -> list[str]:
        client = instrument(
            anthropic.AsyncAnthropic(
                api_key=KEY, base_url=f"http://127.0.0.1:{provider.port}", max_retries=0
            ),
            parent=step,
        )
        try:
            msgs = [{"role": "user", "content": "hi"}]
            first = await client.messages.create(model=MODEL, max_tokens=8, messages=msgs)
            async with client.messages.stream(model=MODEL, max_tokens=8, messages=msgs) as s:
                second = await s.get_final_text()
        finally:
            await client.close()
        return [first.content[0].text, second]  # type: ignore[union-attr]

    with capture_records() as (rec, records):
        texts = asyncio.run(main(rec.logger("agent").span("step")))
    assert texts == ["one", "two"]
    pairs = _requests(records)
    assert [o["body"].encode() for o, _ in pairs] == [r.body for r in provider.requests]
    assert [json.loads(c["body"])["content"][0]["text"] for _, c in pairs] == ["one", "two"]


@pytest.mark.parametrize(
    ("reply", "status", "kind"),
    [
        (Reply.anthropic_error(400, "max_tokens: required", "invalid_request_error"), 400, None),
        (Reply.anthropic_error(429, "Number of requests exceeded", "rate_limit_error"), 429, None),
        (Reply.overloaded(), 529, "overloaded_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_errors_keep_the_raw_body(
    provider: FakeProvider, reply: Reply, status: int, kind: str | None, stream: bool
) -> None:
    """400, 429 and 529 overloaded: the body exactly as the server sent it, the span failed."""
    provider.enqueue(reply)
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        with pytest.raises(anthropic.APIStatusError) as err:
            client.messages.create(
                model=MODEL,
                max_tokens=8,
                messages=[{"role": "user", "content": "x"}],
                stream=stream,
            )
    assert err.value.status_code == status
    ((_, closed),) = _requests(records)
    assert closed["status"] == "error"
    assert closed["body"].encode() == reply.body
    assert closed["attrs"]["http.response.status_code"] == status
    expected = kind or json.loads(reply.body or b"")["error"]["type"]  # type: ignore[arg-type]
    assert closed["attrs"]["error.type"] == expected


def test_overloaded_inside_a_stream_is_kept(provider: FakeProvider) -> None:
    """An ``error`` event mid-stream (after a 200) is recorded with the partial message."""
    provider.enqueue(
        Reply("part", stream_error={"type": "overloaded_error", "message": "Overloaded"})
    )
    with capture_records() as (rec, records):
        client = instrument(_client(provider), parent=rec.logger("agent").span("step"))
        with pytest.raises(anthropic.APIStatusError):
            with client.messages.stream(
                model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}]
            ) as s:
                s.get_final_message()
    ((_, closed),) = _requests(records)
    assert closed["status"] == "error"
    assert closed["attrs"]["error.type"] == "overloaded_error"
    assert closed["attrs"]["http.response.status_code"] == 200
    body = json.loads(closed["body"])
    assert body["errors"] == [{"type": "overloaded_error", "message": "Overloaded"}]
    assert body["content"][0]["text"] == "part"


def test_tool_use_is_linked_and_orphans_are_found(home: Path) -> None:
    """One tool_use answered by a tool-call span (linked), one not: orphan-tool-call names it."""
    calls = [
        {"id": "toolu_answered", "name": "lookup", "arguments": "{}"},
        {"id": "toolu_orphan", "name": "lookup", "arguments": "{}"},
    ]
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider([Reply("", tool_calls=calls)]) as fp:
        turn = rec.logger("agent").span("turn")
        client = instrument(_client(fp), parent=turn)
        msg = client.messages.create(
            model=MODEL, max_tokens=8, tools=TOOLS, messages=[{"role": "user", "content": "x"}]
        )
        with tool_call(turn, "lookup", msg.content[0].id, {}) as tc:  # type: ignore[union-attr]
            tc.set_result("found")
        turn.end()
    rec.close()
    with Collector(home) as collector:
        collector.drain()
    store = SQLiteStore.open(home)
    try:
        (req,) = store.find_spans(name="provider.request")
        (tool,) = store.find_spans(name="tool-call")
        links = store.span_links(tool.span_id)
    finally:
        store.close()
    assert any(lk.reason == "answers" and lk.to_span_id == req.span_id for lk in links)
    result = CliRunner().invoke(cli, ["check", req.trace_id, "--home", str(home), "--json"])
    orphan = next(c for c in json.loads(result.output)["checks"] if c["name"] == "orphan-tool-call")
    assert not orphan["passed"]
    (finding,) = orphan["findings"]
    assert "toolu_orphan" in finding["message"] and "toolu_answered" not in finding["message"]


def test_api_keys_appear_nowhere_under_the_home(home: Path) -> None:
    """x-api-key and the bearer key are masked in every file under the home, store included."""
    echo = Reply.anthropic_error(401, f"invalid x-api-key {HEADER_KEY}", "authentication_error")
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider([Reply("fine"), echo]) as fp:
        step = rec.logger("agent").span("step")
        client = instrument(_client(fp), parent=step)
        msgs = [{"role": "user", "content": "x"}]
        client.messages.create(model=MODEL, max_tokens=8, messages=msgs)
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.create(model=MODEL, max_tokens=8, messages=msgs)
        assert fp.requests[0].headers["x-api-key"] == HEADER_KEY  # it really went on the wire
        step.end()
    rec.close()
    with Collector(home) as collector:
        collector.drain()
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    everything = b"".join(p.read_bytes() for p in files)
    assert b"provider.request" in everything
    for key in (KEY, HEADER_KEY):
        assert key.encode() not in everything
        assert key[6:].encode() not in everything  # not even without its prefix
    with sqlite3.connect(store_path(home)) as db:  # bodies are compressed on disk: read them out
        hashes = [r[0] for r in db.execute("SELECT lower(hex(sha256)) FROM bodies")]
    store = SQLiteStore.open(home)
    try:
        spans = list(store.find_spans(name="provider.request"))
        bodies = [store.get_body(sha) or b"" for sha in hashes]
    finally:
        store.close()
    assert len(bodies) >= 3 and any(b"invalid x-api-key" in b for b in bodies)
    for key in (KEY, HEADER_KEY):
        assert all(key.encode() not in b for b in bodies)
    masked = spans[0].attrs["http.request.header.x-api-key"]
    assert isinstance(masked, str) and "redacted" in masked


def test_governor_is_handed_to_the_shared_transport(provider: FakeProvider) -> None:
    """instrument(governor=...) lands in the same Settings the OpenAI path uses."""
    marker = object()
    client = instrument(_client(provider), governor=marker)
    settings = settings_of(client)
    assert settings is not None and settings.governor is marker
    assert settings.wire.name == "anthropic"
