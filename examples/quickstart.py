"""The smallest real ORCA program: one agent turn recorded into the journal.

Run it with ``python examples/quickstart.py`` (records under $ORCA_HOME or
./.orca), then look at what it wrote with ``orca journal ls`` / ``orca journal cat``.
"""

import time

import orca


def answer(question: str, log: orca.Logger) -> str:
    with log.span("turn", attrs={"gen_ai.conversation.id": "conv-1"}) as turn:
        turn.log.info("user asked", attrs={"chars": len(question)})
        with turn.child(
            "step",
            attrs={"gen_ai.request.model": "fake-1"},
            body=f"system: be brief\nuser: {question}",
        ) as step:
            time.sleep(0.01)  # the model thinking
            step.set_attrs({"gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 95})
        with turn.child(
            "tool-call", attrs={"gen_ai.tool.name": "lookup_order", "gen_ai.tool.call.id": "call_1"}
        ) as tool:
            tool.log.debug("looking up", attrs={"order": "A-17"})
            reply = "Order A-17 ships tomorrow."
            tool.set_attrs({"orca.tool.result_chars": len(reply)})
        return reply


def main() -> None:
    rec = orca.Recorder.open()
    try:
        log = rec.logger("support-agent")
        print(answer("Where is my order A-17?", log))
    finally:
        rec.close()
    print(f"recorded into {rec.home}/journal")


if __name__ == "__main__":
    main()
