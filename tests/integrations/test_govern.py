"""Enforcement at the provider edge: policy and budget before any byte is sent, streaming too."""

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from orca.governance import (
    BudgetBook,
    BudgetExceeded,
    Guard,
    Policy,
    PolicyDenied,
    PolicyEngine,
    parse_policy,
)
from orca.integrations import ProviderCall
from orca.integrations.openai import instrument
from orca.testing import FakeProvider, Reply, capture_records

KEY = "sk-proj-Abc123Def456Ghi789Jkl012"
MSGS = [{"role": "user", "content": "hi"}]
POLICY = """
model_allowlist: [gpt-4o-mini, gpt-4o]
rules:
  - name: cap-output
    phase: pre_provider_request
    match: {payload: [{path: $.max_tokens, gt: 200}]}
    action: modify
    modify: {set: {$.max_tokens: 200}}
"""


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fp:
        yield fp


def _engine(text: str = POLICY, mode: str = "closed") -> PolicyEngine:
    loaded = parse_policy(text.encode())
    return PolicyEngine(Policy(loaded.doc, sha256=loaded.sha256), mode=mode)  # type: ignore[arg-type]


def _guard(budget: dict[str, Any] | None = None, engine: PolicyEngine | None = None) -> Guard:
    book = BudgetBook()
    book.set_budget("run-1", budget)
    return Guard(engine or _engine(), book, run="run-1", agent="writer", audit=None)


def _client(fp: FakeProvider, governor: Any) -> openai.OpenAI:
    c = openai.OpenAI(api_key=KEY, base_url=fp.base_url, max_retries=0)
    with capture_records() as (rec, _):
        return instrument(c, parent=rec.logger("agent").span("step"), governor=governor)


@pytest.mark.parametrize("stream", [False, True])
def test_a_denied_model_never_reaches_the_network(provider: FakeProvider, stream: bool) -> None:
    """Off the model allowlist: PolicyDenied raised in the caller, zero requests at the server."""
    client = _client(provider, _guard())
    with pytest.raises(PolicyDenied, match="model-not-allowed"):
        client.chat.completions.create(model="gpt-5-huge", messages=MSGS, stream=stream)
    assert provider.requests == []


@pytest.mark.parametrize("stream", [False, True])
def test_no_policy_fails_closed_on_streamed_and_plain_calls(
    provider: FakeProvider, stream: bool
) -> None:
    """A closed home with no policy denies every provider call, stream or not, before sending."""
    client = _client(provider, _guard(engine=PolicyEngine(None, mode="closed")))
    with pytest.raises(PolicyDenied, match="no-policy"):
        client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=stream)
    assert provider.requests == []


def test_a_governor_that_breaks_refuses(provider: FakeProvider) -> None:
    """An error inside the governor is a refusal, never a pass-through."""

    class Broken:
        def admit_provider_request(self, call: ProviderCall) -> Any:
            raise RuntimeError("policy backend down")

    client = _client(provider, Broken())
    with pytest.raises(RuntimeError, match="backend down"):
        client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=True)
    assert provider.requests == []


@pytest.mark.parametrize("stream", [False, True])
def test_budget_exceeded_before_any_network_call(provider: FakeProvider, stream: bool) -> None:
    """A worst case (max_tokens × price) above what is left raises BudgetExceeded; nothing sent."""
    client = _client(provider, _guard({"output_tokens": 100}))
    with pytest.raises(BudgetExceeded) as info:
        client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=150, stream=stream)
    assert info.value.dimension == "output_tokens" and info.value.code == "budget-exceeded"
    assert provider.requests == []
    guard = _guard({"cost_usd": 0.001})
    client = _client(provider, guard)
    with pytest.raises(BudgetExceeded, match="cost_usd"):  # 4096 output tokens of gpt-4o > $0.001
        client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=stream)
    assert provider.requests == []


def test_pii_is_redacted_and_max_tokens_capped_before_it_leaves(provider: FakeProvider) -> None:
    """The server receives placeholders, not the card or e-mail, and the capped max_tokens."""
    events: list[tuple[str, dict[str, Any]]] = []
    guard = _guard()
    guard.audit = lambda kind, payload: events.append((kind, payload))
    with capture_records() as (rec, records):
        client = instrument(
            openai.OpenAI(api_key=KEY, base_url=provider.base_url, max_retries=0),
            parent=rec.logger("agent").span("step"),
            governor=guard,
        )
        text = "charge 4111 1111 1111 1111 and mail jane@example.com"
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": text}], max_tokens=5000
        )
    sent = provider.requests[0].json()
    assert sent["messages"][0]["content"] == "charge [CARD_1] and mail [EMAIL_1]"
    assert sent["max_tokens"] == 200
    for blob in (repr(records), repr(events)):
        assert "4111 1111" not in blob and "jane@example.com" not in blob
    kinds = [k for k, _ in events]
    assert kinds[0] == "policy.decision" and "budget.settled" in kinds
    decision = events[0][1]
    assert decision["rule"] == "cap-output" and decision["redactions"] == {"card": 1, "email": 1}


def test_usage_settles_the_reservation(provider: FakeProvider) -> None:
    """After the response, usage is the reported one and nothing stays reserved."""
    guard = _guard({"total_tokens": 100_000})
    client = _client(provider, guard)
    provider.enqueue(Reply("ok", usage={"prompt_tokens": 40, "completion_tokens": 7}))
    client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=100)
    provider.enqueue(Reply("ok", usage={"prompt_tokens": 10, "completion_tokens": 3}))
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=MSGS,
        max_tokens=100,
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass
    rows = {(u.scope, u.dimension): (u.used, u.reserved) for u in guard.book.usage("run-1")}
    assert rows[("run", "total_tokens")] == (60.0, 0.0)
    assert rows[("agent:writer", "input_tokens")] == (50.0, 0.0)


def test_a_stream_without_usage_is_charged_its_estimate(provider: FakeProvider) -> None:
    """No usage in the stream: the whole estimate is charged, never dropped."""
    guard = _guard({"output_tokens": 10_000})
    client = _client(provider, guard)
    for _ in client.chat.completions.create(
        model="gpt-4o", messages=MSGS, max_tokens=300, stream=True
    ):
        pass
    rows = {(u.scope, u.dimension): (u.used, u.reserved) for u in guard.book.usage("run-1")}
    assert rows[("run", "output_tokens")] == (200.0, 0.0)  # capped to 200 by the policy


def test_a_provider_error_releases_the_reservation(provider: FakeProvider) -> None:
    """A 4xx/5xx produced nothing: the estimate is given back."""
    guard = _guard({"output_tokens": 200})
    client = _client(provider, guard)
    provider.enqueue(Reply.error(500, "down", type="server_error"))
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=200)
    provider.enqueue(Reply("ok", usage={"prompt_tokens": 1, "completion_tokens": 1}))
    client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=200)  # fits again


def test_concurrent_requests_never_overspend(provider: FakeProvider) -> None:
    """16 threads × 3 requests against room for 10: exactly the admitted ones reach the server."""
    guard = _guard({"output_tokens": 1000})
    client = _client(provider, guard)
    admitted: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        for _ in range(3):
            try:
                client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=100)
            except BudgetExceeded:
                with lock:
                    refused.append(1)
            else:
                with lock:
                    admitted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each reply's real output is 1 token, so settled requests free room for later ones; what
    # must hold is that the reserved worst cases in flight never passed the limit: every
    # request the server saw was admitted, and usage never exceeds the limit.
    assert len(provider.requests) == len(admitted) and len(admitted) + len(refused) == 48
    used = {(u.scope, u.dimension): u for u in guard.book.usage("run-1")}
    assert used[("run", "output_tokens")].used <= 1000
    assert used[("run", "output_tokens")].reserved == 0


def test_async_streaming_is_governed_too(provider: FakeProvider) -> None:
    """The async transport admits before sending and settles after the stream ends."""
    guard = _guard({"output_tokens": 150})

    async def run() -> None:
        client = instrument(
            openai.AsyncOpenAI(api_key=KEY, base_url=provider.base_url, max_retries=0),
            governor=guard,
        )
        with pytest.raises(BudgetExceeded):
            await client.chat.completions.create(
                model="gpt-4o", messages=MSGS, max_tokens=151, stream=True
            )
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MSGS, max_tokens=150, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        async for _ in stream:
            pass
        await client.close()

    asyncio.run(run())
    assert len(provider.requests) == 1
    rows = {(u.scope, u.dimension): (u.used, u.reserved) for u in guard.book.usage("run-1")}
    assert rows[("run", "output_tokens")][1] == 0.0


def test_policy_check_spans_name_the_decision_and_rule(provider: FakeProvider) -> None:
    """Each governed request leaves a policy.check span: decision and rule, no payload."""
    with capture_records() as (rec, records):
        client = instrument(
            openai.OpenAI(api_key=KEY, base_url=provider.base_url, max_retries=0),
            parent=rec.logger("agent").span("step"),
            governor=_guard(),
        )
        client.chat.completions.create(model="gpt-4o", messages=MSGS, max_tokens=900)
        with pytest.raises(PolicyDenied):
            client.chat.completions.create(model="o1-pro", messages=MSGS, stream=True)
    checks = [r for r in records if r["kind"] == "span-open" and r["name"] == "policy.check"]
    assert [
        (c["attrs"]["orca.policy.decision"], c["attrs"]["orca.policy.rule"]) for c in checks
    ] == [
        ("modify", "cap-output"),
        ("deny", "model_allowlist"),
    ]
    closes = {r["span"]: r for r in records if r["kind"] == "span-close"}
    assert closes[checks[1]["span"]]["status"] == "error"
    assert all("body" not in c for c in checks)


def test_a_flag_rule_still_sends_the_redacted_body(provider: FakeProvider) -> None:
    """A winning allow_but_flag rule does not let PII out: the provider gets the placeholder."""
    flag = POLICY + "  - {name: flag-all, phase: pre_provider_request, action: allow_but_flag}\n"
    client = _client(provider, _guard(engine=_engine(flag)))
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "mail jane@example.com"}]
    )
    assert provider.requests[0].json()["messages"][0]["content"] == "mail [EMAIL_1]"


def test_anthropic_streams_are_governed_and_settled_from_their_events(
    provider: FakeProvider,
) -> None:
    """The shared transport governs the Anthropic client too; usage from message events."""
    import anthropic

    from orca.integrations.anthropic import instrument as instrument_anthropic

    guard = _guard({"output_tokens": 100}, engine=_engine("rules: []\n"))
    client = instrument_anthropic(
        anthropic.Anthropic(
            api_key=KEY, base_url=f"http://127.0.0.1:{provider.port}", max_retries=0
        ),
        governor=guard,
    )
    try:
        # The Anthropic SDK wraps any transport exception: the refusal is the cause.
        with pytest.raises(anthropic.APIConnectionError) as info:
            client.messages.create(
                model="claude-sonnet-4",
                max_tokens=101,
                messages=[{"role": "user", "content": "hi"}],
            )
        assert isinstance(info.value.__cause__, BudgetExceeded)
        assert provider.requests == []
        provider.enqueue(Reply("ok", usage={"input_tokens": 12, "output_tokens": 9}))
        with client.messages.stream(
            model="claude-sonnet-4", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            stream.get_final_message()
    finally:
        client.close()
    rows = {(u.scope, u.dimension): (u.used, u.reserved) for u in guard.book.usage("run-1")}
    assert rows[("run", "output_tokens")] == (9.0, 0.0)
    assert rows[("run", "input_tokens")] == (12.0, 0.0)
