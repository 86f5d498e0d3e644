"""The tool-loop check: the model calling the same tool with the same input, over and over.

The input is compared by digest, not by text: a ``tool-call`` span's input is
its span-open body, stored content-addressed, so two calls with the same
input carry the same sha256 (``request_body``) and no body is read. Spans
recorded without a body fall back to the ``gen_ai.tool.call.arguments``
attribute; a call with neither is never counted as a repeat.
"""

import hashlib
from typing import NamedTuple

from orca.query._format import short_id, short_trace
from orca.query._registry import CheckScope, Finding, check
from orca.store import SpanRow

TOOL_SPAN = "tool-call"


class _Call(NamedTuple):
    span: SpanRow
    tool: str
    digest: str | None


def _digest(s: SpanRow) -> str | None:
    if s.request_body:
        return s.request_body
    args = s.attrs.get("gen_ai.tool.call.arguments")
    if args is None or args == "":
        return None
    return hashlib.sha256(str(args).encode()).hexdigest()


def _calls_by_trace(sc: CheckScope) -> dict[str, list[_Call]]:
    out: dict[str, list[_Call]] = {}
    for s in sc.spans:
        if s.name == TOOL_SPAN and not s.synthetic:
            tool = str(s.attrs.get("gen_ai.tool.name") or "?")
            out.setdefault(s.trace_id, []).append(_Call(s, tool, _digest(s)))
    for calls in out.values():
        calls.sort(key=lambda c: (c.span.start_ns, c.span.span_id))
    return out


def _key(c: _Call) -> tuple[str, str] | None:
    return None if c.digest is None else (c.tool, c.digest)


def _primitive(block: list[tuple[str, str] | None]) -> bool:
    """A block that is not itself a shorter block repeated (``A B`` yes, ``A A`` no)."""
    n = len(block)
    return not any(n % p == 0 and block == block[:p] * (n // p) for p in range(1, n))


def _cycles(calls: list[_Call], repeats: int, max_len: int) -> list[tuple[int, int, int]]:
    """``(start, length, times)`` of cycles of 2..max_len calls repeated ≥ ``repeats`` in a row."""
    keys = [_key(c) for c in calls]
    used = [False] * len(keys)
    found: list[tuple[int, int, int]] = []
    for length in range(2, max_len + 1):
        i = 0
        while i + length * repeats <= len(keys):
            block = keys[i : i + length]
            if None in block or any(used[i : i + length]) or not _primitive(block):
                i += 1
                continue
            times = 1
            while keys[i + times * length : i + (times + 1) * length] == block and not any(
                used[i + times * length : i + (times + 1) * length]
            ):
                times += 1
            if times >= repeats:
                found.append((i, length, times))
                for k in range(i, i + times * length):
                    used[k] = True
                i += times * length
            else:
                i += 1
    return found


@check(
    "tool-loop",
    ok="no tool called again and again with the same input",
    about="the same tool with the same input ≥ 3 times in a trace, or a short cycle repeating",
)
def check_tool_loop(sc: CheckScope) -> list[Finding]:
    cfg = sc.config
    out: list[Finding] = []
    for trace_id, calls in _calls_by_trace(sc).items():
        in_cycle: set[int] = set()
        for start, length, times in _cycles(calls, cfg.tool_loop_repeats, cfg.tool_loop_max_cycle):
            span = calls[start : start + length * times]
            in_cycle.update(range(start, start + length * times))
            names = " → ".join(c.tool for c in span[:length])
            out.append(
                Finding(
                    f"tool calls {names} repeated {times}× in a row with the same inputs "
                    f"({len(span)} calls) in trace {short_trace(trace_id)}",
                    [c.span.span_id for c in span],
                    trace_id,
                    f"orca span {short_id(span[0].span.span_id)}",
                )
            )
        groups: dict[tuple[str, str], list[_Call]] = {}
        for i, c in enumerate(calls):
            k = _key(c)
            if k is not None and i not in in_cycle:
                groups.setdefault(k, []).append(c)
        for (tool, digest), same in groups.items():
            if len(same) < cfg.tool_loop_repeats:
                continue
            out.append(
                Finding(
                    f"tool {tool} called {len(same)}× with the same input "
                    f"(sha256 {digest[:12]}) in trace {short_trace(trace_id)}; "
                    f"the model did not act on its result",
                    [c.span.span_id for c in same],
                    trace_id,
                    f"orca span {short_id(same[0].span.span_id)}",
                )
            )
    return out
