"""The preferred, public path: the SDK's own ``http_client=`` argument, a recording transport."""

import asyncio
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from orca.integrations import anthropic as orca_anthropic
from orca.integrations import openai as orca_openai
from orca.integrations.openai import InstrumentError
from orca.testing import FakeProvider, capture_records

KEY = "sk-test-0000000000000000"
MSGS = [{"role": "user", "content": "hi"}]


def _provider_spans(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "span-open" and r["name"] == "provider.request"]


def test_openai_http_client_records_without_touching_private_attributes() -> None:
    """OpenAI(http_client=http_client(parent=step)): the request is a child span, bytes exact."""
    with FakeProvider() as fp, capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        http = orca_openai.http_client(parent=step)
        assert isinstance(http, openai.DefaultHttpxClient)
        client = openai.OpenAI(api_key=KEY, base_url=fp.base_url, max_retries=0, http_client=http)
        assert client.chat.completions.create(model="gpt-4o", messages=MSGS).choices
        client.close()
    [opened] = _provider_spans(records)
    assert opened["parent"] == step.span_id and opened["body"].encode() == fp.requests[0].body
    assert orca_openai.settings_of(http) is not None  # settings_of reads either kind


def test_async_http_client_and_the_callers_own_transport() -> None:
    """is_async=True for AsyncOpenAI; a transport the caller passes is wrapped, not replaced."""
    sent: list[str] = []

    class Counting(httpx2.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            sent.append(str(request.url))
            return await super().handle_async_request(request)

    async def run(base_url: str) -> list[dict[str, Any]]:
        with capture_records() as (rec, records):
            step = rec.logger("agent").span("step")
            http = orca_openai.http_client(parent=step, is_async=True, transport=Counting())
            client = openai.AsyncOpenAI(
                api_key=KEY, base_url=base_url, max_retries=0, http_client=http
            )
            await client.chat.completions.create(model="gpt-4o", messages=MSGS)
            await client.close()
        return records

    with FakeProvider() as fp:
        records = asyncio.run(run(fp.base_url))
    assert len(_provider_spans(records)) == 1 and len(sent) == 1


def test_anthropic_http_client_records() -> None:
    """Anthropic(http_client=...) records messages.create the same way."""
    with FakeProvider() as fp, capture_records() as (rec, records):
        step = rec.logger("agent").span("step")
        http = orca_anthropic.http_client(parent=step, conversation_id="conv-9")
        base_url = f"http://127.0.0.1:{fp.port}"
        client = anthropic.Anthropic(
            api_key=KEY, base_url=base_url, max_retries=0, http_client=http
        )
        client.messages.create(model="claude-sonnet-4", max_tokens=8, messages=MSGS)
        client.close()
    [opened] = _provider_spans(records)
    assert opened["attrs"]["gen_ai.provider.name"] == "anthropic"
    assert opened["attrs"]["gen_ai.conversation.id"] == "conv-9"


def test_bad_option_is_a_clear_error_before_any_client_exists() -> None:
    """A bad cache_send is an InstrumentError at build time, naming the allowed values."""
    with pytest.raises(InstrumentError, match="'warm' or 'real'"):
        orca_openai.http_client(cache_send="lukewarm")  # type: ignore[typeddict-item]
