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
* an orchestrated run (``orca.orchestrator``): triage hands the refund to billing
  by envelope; the billing worker process claims it and is killed mid-task; after
  its lease runs out the task is redelivered (attempt 2) and completes; a survey
  envelope nobody picks up in time **expires**. Every step is a ledger entry.

Run it under ORCA and look::

    orca run -- python examples/support_desk.py
    orca check --all          # exits 1: the findings are the point
    orca runs show last       # the run: tasks, attempts, the expired envelope
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
from orca.orchestrator import Orchestrator, Task, TaskContext
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


BILLING_LEASE_MS = 1_000
REFUNDS: dict[str, dict[str, Any]] = {}  # side effects keyed by task id: a redelivery is harmless


def triage_agent(task: Task, ctx: TaskContext) -> str:
    """Triage: route the refund to billing, and ask for a survey (nobody serves it in time)."""
    ctx.log.info("refund request: handing it to billing")
    order = task.payload["order"]
    ctx.submit(
        id=f"{task.id}/billing",
        kind="agent_task",
        recipient="billing",
        payload={"order": order, "reason": "arrived broken"},
        usage={"input_tokens": 120, "output_tokens": 40},
    )
    ctx.submit(
        id=f"{task.id}/survey", kind="agent_task", recipient="feedback", payload={}, ttl_ms=300
    )
    return "routed to billing"


def billing_agent(task: Task, ctx: TaskContext) -> dict[str, Any]:
    """Billing: issue the refund once per task id, whatever the attempt; answer the caller."""
    refund = REFUNDS.setdefault(task.id, {"order": task.payload["order"], "amount": 42.0})
    ctx.set_usage(input_tokens=118, output_tokens=35, cost_usd=0.0009)
    ctx.submit(
        id=f"{task.id}/answer",
        kind="agent_result",
        recipient=None,
        payload={"refund": refund, "attempt": task.attempt},
    )
    return refund


def billing_worker_dies() -> None:
    """A billing worker process: claims the refund, starts on it, and is killed (SIGKILL)."""
    orch = Orchestrator.open()
    tasks = orch.claim("billing", lease_ms=BILLING_LEASE_MS, worker="billing-worker-1")
    tasks[0] and print(f"billing worker: working on {tasks[0].id} (attempt {tasks[0].attempt})")
    os.kill(os.getpid(), signal.SIGKILL)


def orchestrated_case() -> str:
    """The same case through the orchestrator; the worker's crash is survived by redelivery."""
    with Orchestrator.open() as orch:
        orch.agent("triage")(triage_agent)
        run = orch.start_run("support-desk", metadata={"conversation": "alice"})
        orch.submit(
            {
                "id": "case-A-17",
                "run": run.id,
                "kind": "agent_task",
                "sender": "alice",
                "recipient": "triage",
                "payload": {"order": "A-17"},
            }
        )
        orch.run_until_idle(timeout=30)
    worker = subprocess.run([sys.executable, __file__, "--billing-worker"], check=False)
    with Orchestrator.open() as orch:  # rebuilt from the ledger: billing's task is leased
        orch.agent("billing", lease_ms=BILLING_LEASE_MS)(billing_agent)
        orch.run_until_idle(timeout=30)  # waits out the dead worker's lease, then redelivers
        result = orch.fetch_result(run.id)
        orch.end_run(run.id)
    return (
        f"refund {result.payload['refund']['order']} issued on attempt "
        f"{result.payload['attempt']} after the billing worker died ({worker.returncode})"
    )


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
    if sys.argv[1:] == ["--billing-worker"]:
        billing_worker_dies()
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
    print(f"orchestrated: {orchestrated_case()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
