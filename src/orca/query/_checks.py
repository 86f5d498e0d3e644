"""The bug catalog: named checks, each a one-line verdict with the span ids that prove it.

Each check is a pure function over the traces in scope (one trace, or all of
them for ``orca check --all`` — duplicate deliveries and cache busts cross
trace boundaries) and returns its findings. A check that finds nothing
passes. ``run_checks`` runs them all; the CLI exits 1 when any fails, so
scripts and CI can gate on it.
"""

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final

from orca.query._cache import (
    body_offset,
    compare_breakpoints,
    first_lost,
    prefix_bytes,
    prefix_ranges,
)
from orca.query._checks_orchestrated import ORCHESTRATED_CHECKS
from orca.query._diff import first_difference
from orca.query._format import fmt_duration, short_id, short_trace
from orca.query._labels import error_text
from orca.store import CRASH_SPAN_NAME, SpanRow, TraceRows

BodyFn = Callable[[str], bytes | None]

SLOW_FACTOR: Final = 3.0
MIN_SAMPLES: Final = 20
MIN_SLOW_NS: Final = 1_000_000  # spans under 1 ms are never "slow": noise, not a bug
MAX_LISTED: Final = 5
ANSWERING_SPANS: Final = frozenset({"tool-call", "handoff"})


@dataclass(frozen=True, slots=True)
class Finding:
    message: str
    span_ids: list[str]
    trace_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    passed: bool
    verdict: str
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Scope:
    """The spans under check, indexed once for every check."""

    traces: Sequence[TraceRows]
    spans: list[SpanRow]
    by_id: dict[str, SpanRow]
    body: BodyFn | None
    p95: Mapping[str, int]

    def conversation(self, span: SpanRow) -> str:
        """The span's conversation: its own, else its nearest ancestor's, else its trace's."""
        seen = 0
        cur: SpanRow | None = span
        while cur is not None and seen < 10_000:
            value = cur.attrs.get("gen_ai.conversation.id")
            if value:
                return str(value)
            cur = self.by_id.get(cur.parent_id) if cur.parent_id else None
            seen += 1
        for t in self.traces:
            if t.summary.trace_id == span.trace_id and t.summary.conversation_id:
                return t.summary.conversation_id
        return f"trace:{span.trace_id}"


def _sid(s: SpanRow) -> str:
    return f"{s.name} {short_id(s.span_id)}"


def check_crashed(sc: Scope) -> list[Finding]:
    return [
        Finding(
            str(s.attrs.get("exception.message") or "process exited unexpectedly"),
            [s.span_id],
            s.trace_id,
        )
        for s in sc.spans
        if s.synthetic and s.name == CRASH_SPAN_NAME
    ]


def check_unfinished(sc: Scope) -> list[Finding]:
    return [
        Finding(f"{_sid(s)} never closed", [s.span_id], s.trace_id)
        for s in sc.spans
        if s.status == "unfinished" and not s.synthetic
    ]


def check_orphan_tool_calls(sc: Scope) -> list[Finding]:
    answered: set[str] = set()
    for s in sc.spans:  # a handoff is the tool call an agent framework answers by switching agent
        if s.name in ANSWERING_SPANS and s.attrs.get("gen_ai.tool.call.id"):
            answered.add(str(s.attrs["gen_ai.tool.call.id"]))
    out: list[Finding] = []
    for s in sc.spans:
        raw = s.attrs.get("orca.tool_calls.requested")
        if not raw:
            continue
        for call in (c.strip() for c in str(raw).split(",")):
            if call and call not in answered:
                msg = f"tool call {call} requested by {_sid(s)} has no tool-call span answering it"
                out.append(Finding(msg, [s.span_id], s.trace_id))
    return out


def _by_message(spans: Iterable[SpanRow], name: str) -> dict[str, list[SpanRow]]:
    out: dict[str, list[SpanRow]] = {}
    for s in spans:
        if s.name == name and s.attrs.get("messaging.message.id"):
            out.setdefault(str(s.attrs["messaging.message.id"]), []).append(s)
    return out


def check_duplicate_delivery(sc: Scope) -> list[Finding]:
    out: list[Finding] = []
    for msg, spans in _by_message(sc.spans, "queue.deliver").items():
        if len(spans) > 1:
            ids = ", ".join(short_id(s.span_id) for s in spans)
            out.append(
                Finding(
                    f"message {msg} delivered {len(spans)}× ({ids})",
                    [s.span_id for s in spans],
                    spans[0].trace_id,
                )
            )
    return out


def check_misrouted(sc: Scope) -> list[Finding]:
    out: list[Finding] = []
    delivered = _by_message(sc.spans, "queue.deliver")
    for msg, enqueues in _by_message(sc.spans, "queue.enqueue").items():
        for enq in enqueues:
            target = enq.attrs.get("orca.queue.target_conversation")
            if not target:
                continue
            for dlv in delivered.get(msg, []):
                got = sc.conversation(dlv)
                if got != str(target):
                    out.append(
                        Finding(
                            f"message {msg} enqueued for conversation {target} "
                            f"({_sid(enq)}) was delivered to {got} ({_sid(dlv)})",
                            [enq.span_id, dlv.span_id],
                            dlv.trace_id,
                        )
                    )
    return out


def _bust_offset(sc: Scope, a: SpanRow, b: SpanRow) -> tuple[bool, int | None]:
    """(busted, first differing byte offset in B's body) for two consecutive requests.

    A provider cache hits when the new request starts with a prefix it has
    seen: when both bodies and their prefix ranges (``orca.prefix.ranges``)
    are known, the earlier prefix surviving intact at the start of the later
    one is a hit (the conversation grew), anything else a bust. Without them
    a changed fingerprint counts, located by the bodies' first differing byte.
    """
    body_a, body_b = _bodies(sc, a, b)
    if body_a is None or body_b is None:
        return True, None
    ra, rb = prefix_ranges(a), prefix_ranges(b)
    if ra is not None and rb is not None:
        pa, pb = prefix_bytes(body_a, ra), prefix_bytes(body_b, rb)
        if pb.startswith(pa):
            return False, None
        off = first_difference(pa, pb)
        return True, None if off is None else body_offset(rb, off)
    return True, first_difference(body_a, body_b)


def _bodies(sc: Scope, a: SpanRow, b: SpanRow) -> tuple[bytes | None, bytes | None]:
    body_a = sc.body(a.request_body) if sc.body and a.request_body else None
    body_b = sc.body(b.request_body) if sc.body and b.request_body else None
    return body_a, body_b


def _bust(sc: Scope, a: SpanRow, b: SpanRow, conv: str) -> Finding | None:
    """The finding for consecutive requests ``a``, ``b`` (None: the cache still hits)."""
    pair = f"between {_sid(a)} and {_sid(b)} of conversation {conv}"
    body_a, body_b = _bodies(sc, a, b)
    verdicts = compare_breakpoints(a, body_a, b, body_b)
    if verdicts is not None:
        lost = first_lost(verdicts)
        if lost is None:
            return None
        kept = [f"{v.index} ({v.at})" for v in verdicts if v.kept]
        where = "" if lost.offset is None else f"; first differing byte at offset {lost.offset}"
        still = f"; breakpoint {', '.join(kept)} still hit" if kept else ""
        msg = (
            f"cache breakpoint {lost.index}/{lost.of} ({lost.at}) prefix changed "
            f"{pair}{where}{still}"
        )
        return Finding(msg, [a.span_id, b.span_id], b.trace_id)
    busted, off = _bust_offset(sc, a, b)
    if not busted:
        return None
    where = "" if off is None else f"; first differing byte at offset {off}"
    return Finding(f"prefix fingerprint changed {pair}{where}", [a.span_id, b.span_id], b.trace_id)


def check_cache_bust(sc: Scope) -> list[Finding]:
    """Consecutive provider requests of one conversation whose cacheable prefix changed.

    With ``cache_control`` breakpoints recorded, the finding names the first
    breakpoint whose prefix did not survive (and which earlier ones still hit).
    """
    convs: dict[str, list[SpanRow]] = {}
    for s in sc.spans:
        if s.name == "provider.request" and isinstance(s.attrs.get("orca.prefix.fingerprint"), str):
            convs.setdefault(sc.conversation(s), []).append(s)
    out: list[Finding] = []
    for conv, reqs in convs.items():
        reqs.sort(key=lambda s: (s.start_ns, s.span_id))
        for a, b in pairwise(reqs):
            if a.attrs["orca.prefix.fingerprint"] == b.attrs["orca.prefix.fingerprint"]:
                continue
            finding = _bust(sc, a, b, conv)
            if finding is not None:
                out.append(finding)
    return out


def check_error_spans(sc: Scope) -> list[Finding]:
    out: list[Finding] = []
    for s in sc.spans:
        if s.synthetic:
            continue
        if s.status == "error" or (
            s.name == "tool-call" and s.attrs.get("orca.tool.is_error") is True
        ):
            why = error_text(s) or "tool reported an error"
            out.append(Finding(f"{_sid(s)} failed: {why}", [s.span_id], s.trace_id))
    return out


def p95_by_name(spans: Iterable[SpanRow], min_samples: int = MIN_SAMPLES) -> dict[str, int]:
    """The 95th-percentile duration per span name, for names with enough samples."""
    durs: dict[str, list[int]] = {}
    for s in spans:
        if s.end_ns is not None and not s.synthetic:
            durs.setdefault(s.name, []).append(s.end_ns - s.start_ns)
    return {n: percentile(d, 0.95) for n, d in durs.items() if len(d) >= min_samples}


def percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def check_slow(sc: Scope) -> list[Finding]:
    out: list[Finding] = []
    for s in sc.spans:
        p95 = sc.p95.get(s.name)
        dur = s.duration_ns
        if not p95 or dur is None or dur < MIN_SLOW_NS:
            continue
        if dur > SLOW_FACTOR * p95:
            out.append(
                Finding(
                    f"{_sid(s)} took {fmt_duration(dur)}, {dur / p95:.1f}× the p95 of "
                    f"{s.name} ({fmt_duration(p95)})",
                    [s.span_id],
                    s.trace_id,
                )
            )
    return out


CheckFn = Callable[[Scope], list[Finding]]

CHECKS: Final[dict[str, tuple[CheckFn, str]]] = {
    "crashed": (check_crashed, "no crash span"),
    "unfinished-span": (check_unfinished, "every span closed"),
    "orphan-tool-call": (check_orphan_tool_calls, "every requested tool call answered"),
    "duplicate-delivery": (check_duplicate_delivery, "every message delivered once"),
    "misrouted": (check_misrouted, "every message reached its target conversation"),
    "cache-bust": (check_cache_bust, "prompt-cache prefix stable"),
    "error-span": (check_error_spans, "no failed spans"),
    "slow-span": (check_slow, f"no span over {SLOW_FACTOR:g}× the p95 of its name"),
    **ORCHESTRATED_CHECKS,
}


def make_scope(
    traces: Sequence[TraceRows],
    *,
    body: BodyFn | None = None,
    p95: Mapping[str, int] | None = None,
) -> Scope:
    spans = [s for t in traces for s in t.spans]
    return Scope(
        traces,
        spans,
        {s.span_id: s for s in spans},
        body,
        p95 if p95 is not None else p95_by_name(spans),
    )


def run_checks(
    traces: Sequence[TraceRows],
    *,
    body: BodyFn | None = None,
    p95: Mapping[str, int] | None = None,
    only: Iterable[str] | None = None,
) -> list[CheckResult]:
    """Every check (or those named in ``only``) over ``traces``; ``p95`` defaults to theirs."""
    names = list(CHECKS) if only is None else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    sc = make_scope(traces, body=body, p95=p95)
    results: list[CheckResult] = []
    for name in names:
        fn, ok_text = CHECKS[name]
        findings = fn(sc)
        if not findings:
            results.append(CheckResult(name, True, ok_text))
            continue
        first = findings[0].message
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        results.append(CheckResult(name, False, first + more, findings))
    return results


def render_checks(results: Sequence[CheckResult], max_listed: int = MAX_LISTED) -> str:
    """``✖ orphan-tool-call  <verdict>`` per check, then the proving span ids of failures."""
    width = max(len(r.name) for r in results) if results else 0
    out: list[str] = []
    for r in results:
        mark = "ok" if r.passed else "✖ "
        out.append(f"{mark:2} {r.name:<{width}}  {r.verdict}")
        if not r.passed:
            for f in r.findings[:max_listed]:
                ids = " ".join(short_id(i) for i in f.span_ids)
                tr = f" trace {short_trace(f.trace_id)}" if f.trace_id else ""
                out.append(f"{'':{width + 5}}{ids}{tr}: {f.message}")
            if len(r.findings) > max_listed:
                out.append(f"{'':{width + 5}}… {len(r.findings) - max_listed} more")
    failed = sum(1 for r in results if not r.passed)
    out.append(f"{failed} of {len(results)} checks failed" if failed else "all checks passed")
    return "\n".join(out) + "\n"


def checks_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {
        "passed": all(r.passed for r in results),
        "checks": [
            {
                "name": r.name,
                "passed": r.passed,
                "verdict": r.verdict,
                "findings": [
                    {"message": f.message, "span_ids": f.span_ids, "trace_id": f.trace_id}
                    for f in r.findings
                ],
            }
            for r in results
        ],
    }
