"""The first bug catalog: crashes, unfinished spans, orphan tool calls, queue mistakes,
cache busts, failed spans and slow spans.

Each check is a pure function over the traces in scope (one trace, or all of
them for ``orca check --all`` — duplicate deliveries and cache busts cross
trace boundaries) registered with :func:`~orca.query.check`. A check that
finds nothing passes; the CLI exits 1 when any fails, so scripts and CI can
gate on it.
"""

from collections.abc import Iterable
from itertools import pairwise
from typing import Final

from orca._percentile import percentile
from orca.query import _checkrender, _registry
from orca.query._cache import (
    body_offset,
    compare_breakpoints,
    first_lost,
    prefix_bytes,
    prefix_ranges,
)
from orca.query._diff import first_difference
from orca.query._format import fmt_duration, short_id, short_trace
from orca.query._labels import error_text
from orca.query._registry import CheckScope, Finding, check
from orca.store import CRASH_SPAN_NAME, SpanRow

# Modules written against the first catalog import these names from here.
Scope = CheckScope
CheckResult = _registry.CheckResult
CHECKS = _registry.CHECKS
run_checks = _registry.run_checks
checks_json = _checkrender.checks_json
render_checks = _checkrender.render_checks

MIN_SAMPLES: Final = 20
MIN_SLOW_NS: Final = 1_000_000  # spans under 1 ms are never "slow": noise, not a bug
ANSWERING_SPANS: Final = frozenset({"tool-call", "handoff"})


def _sid(s: SpanRow) -> str:
    return f"{s.name} {short_id(s.span_id)}"


def diff_cmd(a: SpanRow, b: SpanRow) -> str:
    """The next command for two spans that should have matched."""
    return f"orca diff {short_id(a.span_id)} {short_id(b.span_id)}"


@check(
    "crashed",
    ok="no crash span",
    about="a process died mid-turn (no clean exit): the collector's synthetic crash span",
)
def check_crashed(sc: CheckScope) -> list[Finding]:
    return [
        Finding(
            str(s.attrs.get("exception.message") or "process exited unexpectedly"),
            [s.span_id],
            s.trace_id,
            f"orca trace {short_trace(s.trace_id)}",
        )
        for s in sc.spans
        if s.synthetic and s.name == CRASH_SPAN_NAME
    ]


@check(
    "unfinished-span",
    ok="every span closed",
    about="a span opened and never closed (crash, hang, or a missing end())",
    role="symptom",
)
def check_unfinished(sc: CheckScope) -> list[Finding]:
    return [
        Finding(f"{_sid(s)} never closed", [s.span_id], s.trace_id)
        for s in sc.spans
        if s.status == "unfinished" and not s.synthetic
    ]


@check(
    "orphan-tool-call",
    ok="every requested tool call answered",
    about="the model asked for a tool call that no tool-call span answered",
)
def check_orphan_tool_calls(sc: CheckScope) -> list[Finding]:
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


@check(
    "duplicate-delivery",
    ok="every message delivered once",
    about="one queue message delivered more than once",
)
def check_duplicate_delivery(sc: CheckScope) -> list[Finding]:
    out: list[Finding] = []
    for msg, spans in _by_message(sc.spans, "queue.deliver").items():
        if len(spans) > 1:
            ids = ", ".join(short_id(s.span_id) for s in spans)
            out.append(
                Finding(
                    f"message {msg} delivered {len(spans)}× ({ids})",
                    [s.span_id for s in spans],
                    spans[0].trace_id,
                    diff_cmd(spans[0], spans[1]),
                )
            )
    return out


@check(
    "misrouted",
    ok="every message reached its target conversation",
    about="a queue message delivered to another conversation than it was enqueued for",
)
def check_misrouted(sc: CheckScope) -> list[Finding]:
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
                            diff_cmd(enq, dlv),
                        )
                    )
    return out


def _bust_offset(sc: CheckScope, a: SpanRow, b: SpanRow) -> tuple[bool, int | None]:
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


def _bodies(sc: CheckScope, a: SpanRow, b: SpanRow) -> tuple[bytes | None, bytes | None]:
    body_a = sc.body(a.request_body) if sc.body and a.request_body else None
    body_b = sc.body(b.request_body) if sc.body and b.request_body else None
    return body_a, body_b


def _bust(sc: CheckScope, a: SpanRow, b: SpanRow, conv: str) -> Finding | None:
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
        return Finding(msg, [a.span_id, b.span_id], b.trace_id, diff_cmd(a, b))
    busted, off = _bust_offset(sc, a, b)
    if not busted:
        return None
    where = "" if off is None else f"; first differing byte at offset {off}"
    return Finding(
        f"prefix fingerprint changed {pair}{where}",
        [a.span_id, b.span_id],
        b.trace_id,
        diff_cmd(a, b),
    )


@check(
    "cache-bust",
    ok="prompt-cache prefix stable",
    about="consecutive requests of a conversation whose cacheable prefix bytes changed",
)
def check_cache_bust(sc: CheckScope) -> list[Finding]:
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


@check(
    "error-span",
    ok="no failed spans",
    about="a span that ended with an error, or a tool that reported one",
    role="symptom",
)
def check_error_spans(sc: CheckScope) -> list[Finding]:
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
    return {n: percentile(d, 0.95, 0) for n, d in durs.items() if len(d) >= min_samples}


@check(
    "slow-span",
    ok="no span over its name's p95 × slow_factor",
    about="a span that took longer than slow_factor (3) × the p95 of spans of its name",
    role="symptom",
)
def check_slow(sc: CheckScope) -> list[Finding]:
    out: list[Finding] = []
    for s in sc.spans:
        p95 = sc.p95.get(s.name)
        dur = s.duration_ns
        if not p95 or dur is None or dur < MIN_SLOW_NS:
            continue
        if dur > sc.config.slow_factor * p95:
            out.append(
                Finding(
                    f"{_sid(s)} took {fmt_duration(dur)}, {dur / p95:.1f}× the p95 of "
                    f"{s.name} ({fmt_duration(p95)})",
                    [s.span_id],
                    s.trace_id,
                )
            )
    return out
