"""A prompt-cache bust that only breakpoint-aware evidence explains, and ``orca check`` finds.

An agent marks three ``cache_control`` breakpoints, the way Anthropic's docs
suggest: after the tool definitions, after the system prompt, and after the
latest user message. Between its two turns the system prompt gains the
current time ("It is now 10:42"), a common mistake: the tools' cache entry
still hits, but every entry after it misses and is written again.

Runs against the local fake provider, so it needs no network and no key:

    .venv/bin/python examples/anthropic_cache_bust.py
    .venv/bin/orca collect --once && .venv/bin/orca check last
"""

from typing import Any

import anthropic

import orca
from orca.integrations.anthropic import instrument
from orca.testing import FakeProvider, Reply

MODEL = "claude-sonnet-4-20250514"
EPHEMERAL = {"type": "ephemeral"}
TOOLS: list[Any] = [
    {
        "name": name,
        "description": f"{name.replace('_', ' ')} in the order system. " * 60,
        "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}},
    }
    for name in ("lookup_order", "refund_order")
]
TOOLS[-1]["cache_control"] = EPHEMERAL
PERSONA = "You are a support agent for a shoe shop. Answer in one sentence. " * 40


def system(clock: str | None) -> list[Any]:
    """The system prompt; with ``clock`` it carries the time — the cache-busting mistake."""
    text = PERSONA if clock is None else f"It is now {clock}. {PERSONA}"
    return [{"type": "text", "text": text, "cache_control": EPHEMERAL}]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text, "cache_control": EPHEMERAL}]}


def main() -> None:
    with orca.Recorder.open() as rec, FakeProvider(default=Reply("Order 7 shipped.")) as fp:
        log = rec.logger("support-agent")
        with log.span("turn", {"gen_ai.conversation.id": "conv-shoes"}) as turn:
            client = instrument(
                anthropic.Anthropic(
                    api_key="sk-ant-example-not-a-real-key-0000",
                    base_url=f"http://127.0.0.1:{fp.port}",
                    max_retries=0,
                ),
                parent=turn,
                conversation_id="conv-shoes",
            )
            history: list[Any] = [user("Where is order 7?")]
            first = client.messages.create(
                model=MODEL, max_tokens=200, tools=TOOLS, system=system("10:41"), messages=history
            )
            history[0]["content"][0].pop("cache_control")  # the breakpoint moves forward
            history += [
                {"role": "assistant", "content": first.content[0].text},  # type: ignore[union-attr]
                user("And order 8?"),
            ]
            second = client.messages.create(
                model=MODEL, max_tokens=200, tools=TOOLS, system=system("10:42"), messages=history
            )
            client.close()
        for n, reply in enumerate((first, second), 1):
            u = reply.usage
            print(
                f"turn {n}: cache read {u.cache_read_input_tokens}, "
                f"written {u.cache_creation_input_tokens}, uncached {u.input_tokens}"
            )
        print(f"trace {turn.trace_id}: recorded under {rec.home}")


if __name__ == "__main__":
    main()
