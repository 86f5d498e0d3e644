"""Record an agent's provider calls, tool calls and prompt assembly; then check the trace.

Runs against the local fake provider, so it needs no network and no key:

    .venv/bin/python examples/provider_capture.py
    .venv/bin/orca collect --once && .venv/bin/orca check last
"""

import json

import openai

import orca
from orca.integrations.openai import instrument, request_context
from orca.testing import FakeProvider, Reply

SYSTEM = "You are a support agent. Be brief."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
        },
    }
]


def main() -> None:
    script = [
        Reply(
            "", tool_calls=[{"id": "call_1", "name": "lookup_order", "arguments": '{"id": "7"}'}]
        ),
        Reply("Order 7 shipped yesterday."),
    ]
    with orca.Recorder.open() as rec, FakeProvider(script) as fp:
        log = rec.logger("support-agent")
        with log.span("turn", {"gen_ai.conversation.id": "conv-1"}) as turn:
            client = instrument(
                openai.OpenAI(api_key="sk-example-not-a-real-key-000", base_url=fp.base_url),
                parent=turn,
                conversation_id="conv-1",
            )
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Where is order 7?"},
            ]
            with turn.child("step") as step:
                orca.prompt_assembly(
                    step,
                    [
                        {
                            "contributor": "core",
                            "kind": "persona",
                            "role": "system",
                            "message": 0,
                            "start": 0,
                            "text": SYSTEM,
                        },
                        {
                            "contributor": "orders",
                            "kind": "tool-def",
                            "tool": 0,
                            "chars": len(json.dumps(TOOLS[0])),
                        },
                        {
                            "contributor": "user",
                            "kind": "user-msg",
                            "role": "user",
                            "message": 1,
                            "start": 0,
                            "chars": len(messages[1]["content"]),
                        },
                    ],
                )
                with request_context(parent=step):
                    first = client.chat.completions.create(
                        model="gpt-4o", messages=messages, tools=TOOLS
                    )
                call = (first.choices[0].message.tool_calls or [])[0]
                with orca.tool_call(step, "lookup_order", call.id, call.function.arguments) as tc:
                    tc.set_result('{"status": "shipped"}')
            with turn.child("step") as step, request_context(parent=step):
                messages += [
                    first.choices[0].message.model_dump(exclude_none=True),
                    {"role": "tool", "tool_call_id": call.id, "content": '{"status": "shipped"}'},
                ]
                final = client.chat.completions.create(
                    model="gpt-4o", messages=messages, tools=TOOLS
                )
        print(final.choices[0].message.content)
        print(f"trace {turn.trace_id}: recorded under {rec.home}")


if __name__ == "__main__":
    main()
