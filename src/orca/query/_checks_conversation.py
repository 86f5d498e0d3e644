"""Checks across one conversation's requests, or across many traces: growth, switches, cost.

A conversation's requests are its ``provider.request`` spans in time order
(a ``step`` with no request under it stands in, for agents recorded with the
capture API only); cache-warming sends are left
out, the model never answered them. Cost spikes compare a trace with the
other traces of its root name, so they need enough of them to have a p95.
"""

from collections.abc import Callable
from itertools import pairwise
from typing import Any, Final

import orjson

from orca._percentile import percentile
from orca.query._checks_provider import REQUEST, is_warm, model, sid
from orca.query._format import as_float, as_int, fmt_cost, fmt_count, short_id, short_trace
from orca.query._registry import CheckScope, Finding, check
from orca.store import SpanRow

IN: Final = "gen_ai.usage.input_tokens"


def _round_trips(sc: CheckScope) -> list[SpanRow]:
    """Provider requests (warm sends left out), and the steps with no request under them."""
    reqs = [s for s in sc.spans if s.name == REQUEST and not is_warm(s)]
    covered: set[str] = set()
    for r in reqs:
        cur = sc.parent(r)
        n = 0
        while cur is not None and n < 10_000 and cur.span_id not in covered:
            covered.add(cur.span_id)
            cur = sc.parent(cur)
            n += 1
    steps = [s for s in sc.spans if s.name == "step" and s.span_id not in covered]
    return sorted(reqs + steps, key=lambda s: (s.start_ns, s.span_id))


def _calls(sc: CheckScope, keep: Callable[[SpanRow], bool]) -> list[SpanRow]:
    """Round trips that pass ``keep``, oldest first (a step stands in only for itself)."""
    return [s for s in sc.memo("round_trips", lambda: _round_trips(sc)) if keep(s)]


def usage_spans(sc: CheckScope) -> list[SpanRow]:
    """Requests (or stand-in steps) that report input tokens, oldest first."""
    return sc.memo("usage_spans", lambda: _calls(sc, lambda s: IN in s.attrs))


def _user_messages(sc: CheckScope, s: SpanRow) -> int | None:
    """User messages in a request body (tool results left out); None when unreadable."""
    if sc.body is None or not s.request_body:
        return None
    raw = sc.body(s.request_body)
    try:
        doc: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
    msgs = doc.get("messages") if isinstance(doc, dict) else None
    if not isinstance(msgs, list):
        return None
    n = 0
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        content = m.get("content")
        if (
            isinstance(content, list)
            and content
            and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
        ):
            continue  # an Anthropic tool result travels as a user message
        n += 1
    return n


def _new_user_input(sc: CheckScope, window: list[SpanRow]) -> bool:
    first, last = _user_messages(sc, window[0]), _user_messages(sc, window[-1])
    if first is not None and last is not None:
        return last > first
    return len({s.trace_id for s in window}) > 1  # a trace is one user turn


@check(
    "context-bloat",
    ok="no conversation's input grew > 2× without new user input",
    about="input tokens of a conversation growing > 2× over 5 requests with no new user input",
)
def check_context_bloat(sc: CheckScope) -> list[Finding]:
    cfg = sc.config
    convs: dict[str, list[SpanRow]] = {}
    for s in usage_spans(sc):
        convs.setdefault(sc.conversation(s), []).append(s)
    out: list[Finding] = []
    k = cfg.context_bloat_steps
    for conv, reqs in convs.items():
        i = 0
        while i + k <= len(reqs):
            window = reqs[i : i + k]
            a, b = as_int(window[0].attrs[IN]), as_int(window[-1].attrs[IN])
            if a > 0 and b > cfg.context_bloat_factor * a and not _new_user_input(sc, window):
                jumps = [
                    (as_int(y.attrs[IN]) - as_int(x.attrs[IN]), y) for x, y in pairwise(window)
                ]
                grow, at = max(jumps, key=lambda j: j[0])
                out.append(
                    Finding(
                        f"conversation {conv}: input tokens grew {a:,} → {b:,} "
                        f"({b / a:.2f}×) over {k} requests with no new user message; "
                        f"biggest jump +{fmt_count(grow)} at {sid(at)} (re-sent tool output "
                        "or history?)",
                        [window[0].span_id, at.span_id, window[-1].span_id]
                        if at is not window[-1]
                        else [window[0].span_id, window[-1].span_id],
                        window[-1].trace_id,
                        f"orca diff {short_id(window[0].span_id)} {short_id(window[-1].span_id)}",
                    )
                )
                i += k - 1
            else:
                i += 1
    return out


@check(
    "model-switch",
    ok="every conversation kept its model",
    about="the model of a conversation's provider requests changed mid-conversation",
)
def check_model_switch(sc: CheckScope) -> list[Finding]:
    convs: dict[tuple[str, str], list[SpanRow]] = {}
    for s in _calls(sc, lambda s: model(s) is not None):
        convs.setdefault((sc.conversation(s), s.component), []).append(s)
    out: list[Finding] = []
    for (conv, _component), reqs in convs.items():
        for a, b in pairwise(reqs):
            ma, mb = model(a), model(b)
            if ma != mb:
                out.append(
                    Finding(
                        f"conversation {conv} switched model {ma} → {mb} at {sid(b)} "
                        f"(after {sid(a)})",
                        [a.span_id, b.span_id],
                        b.trace_id,
                        f"orca diff {short_id(a.span_id)} {short_id(b.span_id)}",
                    )
                )
    return out


@check(
    "cost-spike",
    ok="no trace over 3× the p95 cost of its root name",
    about="a trace costing > 3× the p95 of traces with the same root name (needs ≥ 20 of them)",
)
def check_cost_spike(sc: CheckScope) -> list[Finding]:
    cfg = sc.config
    costs: dict[str, list[float]] = {}
    for summary in sc.baseline:
        costs.setdefault(summary.root_name, []).append(summary.cost)
    p95s = {
        name: percentile(vals, 0.95, 0.0)
        for name, vals in costs.items()
        if len(vals) >= cfg.cost_spike_min_traces
    }
    out: list[Finding] = []
    unjudged: dict[str, int] = {}
    for t in sc.traces:
        s = t.summary
        if s.root_name not in p95s:
            unjudged[s.root_name] = len(costs.get(s.root_name, []))
            continue
        p95 = p95s[s.root_name]
        if p95 <= 0 or s.cost <= cfg.cost_spike_factor * p95:
            continue
        priced = [x for x in t.spans if "orca.cost.usd" in x.attrs]
        ids = [s.root_span_id] if s.root_span_id else []
        top = max(priced, key=lambda x: as_float(x.attrs["orca.cost.usd"]), default=None)
        where = ""
        if top is not None:
            ids.append(top.span_id)
            where = f"; costliest {sid(top)} {fmt_cost(as_float(top.attrs['orca.cost.usd']))}"
        out.append(
            Finding(
                f"trace {short_trace(s.trace_id)} ({s.root_name}) cost {fmt_cost(s.cost)}, "
                f"{s.cost / p95:.2f}× the p95 of {len(costs[s.root_name])} {s.root_name} "
                f"traces ({fmt_cost(p95)}){where}",
                ids,
                s.trace_id,
                f"orca trace {short_trace(s.trace_id)}",
            )
        )
    if unjudged:
        names = ", ".join(f"{n} ({c})" for n, c in sorted(unjudged.items())[:3])
        skipped = sum(1 for t in sc.traces if t.summary.root_name in unjudged)
        sc.note(
            f"skipped {skipped} trace{'s' if skipped != 1 else ''}: fewer than "
            f"{cfg.cost_spike_min_traces} traces of their root name to take a p95 over: {names}"
        )
    return out
