"""A big trace for UI tests and benches: thousands of spans, folded runs, errors, a large body.

Pages are judged on the worst trace a user will open, not on a demo: this
records one turn of ``spans`` spans — steps, each with a long run of tool
calls (so folding has work to do), every 97th call failed, one step never
closed — through the real recorder into a real journal. The caller runs the
collector (``orca collect --once``) to put it in the store.
"""

import json
import os

from orca.capture import Recorder

TOOLS_PER_STEP = 99


def record_big_trace(home: str | os.PathLike[str], spans: int = 10_000, body_bytes: int = 0) -> str:
    """Record one trace of ``spans`` spans into ``home``'s journal; returns its trace id.

    ``body_bytes`` > 0 gives the first step a JSON request body of about that size.
    """
    rec = Recorder.open(home, heartbeat_s=None)
    try:
        log = rec.logger("bigagent")
        turn = log.span("turn", attrs={"gen_ai.agent.name": "big", "gen_ai.conversation.id": "big"})
        made = 1
        n = 0
        while made < spans:
            body = None
            if n == 0 and body_bytes > 0:
                filler = [{"i": i, "text": "x" * 90} for i in range(max(1, body_bytes // 110))]
                body = json.dumps({"model": "m", "messages": filler}).encode()
            step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body=body)
            made += 1
            for k in range(min(TOOLS_PER_STEP, spans - made)):
                tool = step.child("tool-call", attrs={"gen_ai.tool.name": f"t{k % 5}"})
                made += 1
                if made % 97 == 0:
                    tool.end(error=RuntimeError(f"tool t{k % 5} failed"))
                else:
                    tool.end()
            if n != 3:  # one step is left open: an unfinished span
                step.end(attrs={"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 5})
            n += 1
        turn.end()
        return turn.trace_id
    finally:
        rec.close()
