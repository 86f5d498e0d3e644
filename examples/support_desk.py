"""A small multi-agent support desk, recorded by ORCA, with one deliberately broken turn.

No network, no API key: the "LLM" is ``orca.testing.fake_provider`` (a real
OpenAI-compatible HTTP server on 127.0.0.1 playing a script), called through
the real ``openai`` client instrumented by ``orca.integrations.openai``.

What it records (every span kind the query layer knows):

* turn 1 (conversation ``alice``) — a healthy turn: prompt assembly, a
  provider request asking for a tool, the tool call answering it, the reply;
  then a hand-off to billing through a queue (enqueue → dequeue → deliver).
* turn 2 (conversation ``alice``) — the broken one: a cache-warming send, then
  the real request whose tool schema was re-serialised with its keys in a
  different order (a **cache bust**: the prefix bytes changed though nothing
  meant to), and the model asks for two tools of which the agent runs only
  one (an **orphan tool call**), which a ``reconcile.repair`` span papers over;
  one tool also fails.
* a worker process that is killed (SIGKILL) in the middle of a step: the
  collector writes the synthetic ``process.lifecycle`` crash span for it.

Run it under ORCA and look::

    orca run -- python examples/support_desk.py
    orca check --all          # exits 1: the findings are the point
"""

import json
import os
import signal
import subprocess
import sys
from typing import Any

from openai import OpenAI

import orca
from orca.capture import prompt_assembly, tool_call
from orca.integrations.openai import instrument, request_context
from orca.testing.fake_provider import FakeProvider, Reply

MODEL = "support-llm-1"
PERSONA = "You are the Acme support desk. Be brief, cite order numbers, never invent refunds. " * 8


def tool_defs(reordered: bool = False) -> list[dict[str, Any]]:
    """The tools offered to the model; ``reordered`` re-serialises one with keys swapped."""
    lookup: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order by number.",
            "parameters": {"type": "object", "properties": {"order": {"type": "string"}}},
        },
    }
    if reordered:  # the bug: a dict rebuilt in another order by a "harmless" refactor
        fn = lookup["function"]
        lookup = {
            "function": {k: fn[k] for k in ("parameters", "name", "description")},
            "type": "function",
        }
    refund = {
        "type": "function",
        "function": {
            "name": "issue_refund",
            "description": "Refund an order.",
            "parameters": {"type": "object", "properties": {"order": {"type": "string"}}},
        },
    }
    legacy = {
        "type": "function",
        "function": {
            "name": "legacy_export",
            "description": "Export the full account history as CSV. " * 30,
            "parameters": {"type": "object", "properties": {}},
        },
    }
    return [lookup, refund, legacy]


def assemble(step: orca.Span, messages: list[dict[str, str]], tools: list[dict[str, Any]]) -> None:
    segments: list[dict[str, Any]] = [
        {"contributor": "persona", "kind": "persona", "role": "system", "text": PERSONA}
    ]
    for t in tools:
        segments.append(
            {"contributor": t["function"]["name"], "kind": "tool-def", "chars": len(json.dumps(t))}
        )
    for i, m in enumerate(messages[1:], start=1):
        kind = "user-msg" if i == len(messages) - 1 else "history"
        segments.append(
            {
                "contributor": "conversation",
                "kind": kind,
                "role": m["role"],
                "text": m["content"],
                "message": i,
            }
        )
    prompt_assembly(step, segments)


def run_tool(step: orca.Span, name: str, call_id: str, args: str) -> str:
    with tool_call(step, name, call_id, input=args) as call:
        if name == "issue_refund":
            raise RuntimeError("refund service returned exit 2")
        result = json.dumps({"order": "A-17", "status": "shipped", "eta": "tomorrow"})
        call.set_result(result)
        return result


def turn_one(log: orca.Logger, client: OpenAI) -> None:
    with log.span(
        "turn", attrs={"gen_ai.agent.name": "triage", "gen_ai.conversation.id": "alice"}
    ) as turn:
        messages = [
            {"role": "system", "content": PERSONA},
            {"role": "user", "content": "Where is my order A-17?"},
        ]
        with turn.child("step", attrs={"gen_ai.request.model": MODEL}) as step:
            assemble(step, messages, tool_defs())
            with request_context(parent=step, conversation_id="alice"):
                resp = client.chat.completions.create(
                    model=MODEL,
                    messages=messages,  # type: ignore[arg-type]
                    tools=tool_defs(),
                )  # type: ignore[arg-type]
            for tc in resp.choices[0].message.tool_calls or []:
                run_tool(turn, tc.function.name, tc.id, tc.function.arguments)
        step = turn.child("step", attrs={"gen_ai.request.model": MODEL})
        with step, request_context(parent=step, conversation_id="alice"):
            client.chat.completions.create(model=MODEL, messages=messages, tools=tool_defs())  # type: ignore[arg-type]
        hand_off(turn, "msg-1", target="billing-alice")


def hand_off(turn: orca.Span, msg_id: str, target: str) -> None:
    """Triage hands the case to billing through a queue."""
    attrs = {"messaging.message.id": msg_id, "orca.queue.target_conversation": target}
    turn.child("queue.enqueue", attrs=attrs).end()
    turn.child("queue.dequeue", attrs={"messaging.message.id": msg_id}).end()
    deliver = turn.child(
        "queue.deliver", attrs={"messaging.message.id": msg_id, "gen_ai.conversation.id": target}
    )
    deliver.log.info("billing picked up the case")
    deliver.end()


def turn_two(log: orca.Logger, client: OpenAI) -> None:
    with log.span(
        "turn", attrs={"gen_ai.agent.name": "triage", "gen_ai.conversation.id": "alice"}
    ) as turn:
        messages = [
            {"role": "system", "content": PERSONA},
            {"role": "user", "content": "It arrived broken. I want a refund for A-17."},
        ]
        with turn.child("step", attrs={"gen_ai.request.model": MODEL}) as step:
            # Warm the provider's prompt cache with exactly the request about to be sent...
            with request_context(parent=step, conversation_id="alice", cache_send="warm"):
                client.chat.completions.create(model=MODEL, messages=messages, tools=tool_defs())  # type: ignore[arg-type]
            # ...but the real send re-serialises a tool schema (the bug): the cache misses.
            assemble(step, messages, tool_defs(reordered=True))
            with request_context(parent=step, conversation_id="alice"):
                resp = client.chat.completions.create(
                    model=MODEL,
                    messages=messages,  # type: ignore[arg-type]
                    tools=tool_defs(reordered=True),
                )  # type: ignore[arg-type]
            calls = resp.choices[0].message.tool_calls or []
            # The bug: only the first requested tool call is run; the second is dropped.
            try:
                run_tool(turn, calls[0].function.name, calls[0].id, calls[0].function.arguments)
            except RuntimeError as exc:
                turn.log.error("refund failed", exc=exc)
            with turn.child(
                "reconcile.repair",
                attrs={
                    "orca.repair.reason": "missing tool result",
                    "gen_ai.tool.call.id": calls[1].id,
                },
            ):
                pass


def worker_crash() -> None:
    """A billing worker that dies (SIGKILL) in the middle of a step: no clean exit."""
    rec = orca.Recorder.open()
    log = rec.logger("billing-worker")
    turn = log.span(
        "turn", attrs={"gen_ai.agent.name": "billing", "gen_ai.conversation.id": "billing-alice"}
    )
    turn.child("step", attrs={"gen_ai.request.model": MODEL}).end()
    turn.child("step", attrs={"gen_ai.request.model": MODEL})  # never ends
    os.kill(os.getpid(), signal.SIGKILL)


def script() -> list[Reply]:
    lookup = {"id": "call_lookup_1", "name": "lookup_order", "arguments": '{"order": "A-17"}'}
    refund = {"id": "call_refund_2", "name": "issue_refund", "arguments": '{"order": "A-17"}'}
    again = {"id": "call_lookup_3", "name": "lookup_order", "arguments": '{"order": "A-17"}'}
    return [
        Reply(tool_calls=[lookup]),
        Reply(content="Order A-17 ships tomorrow."),
        Reply(content="."),  # the cache-warming send
        Reply(tool_calls=[refund, again]),
    ]


def main() -> int:
    if sys.argv[1:] == ["--worker"]:
        worker_crash()
        return 0
    rec = orca.Recorder.open()
    log = rec.logger("support-desk")
    with FakeProvider(script(), cache_min_tokens=64, cache_block_tokens=16) as provider:
        client = instrument(
            OpenAI(base_url=provider.base_url, api_key="sk-example-not-a-real-key-123"), logger=log
        )
        turn_one(log, client)
        turn_two(log, client)
    rec.close()
    worker = subprocess.run([sys.executable, __file__, "--worker"], check=False)
    print(f"support desk: 2 turns served; billing worker died with code {worker.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
