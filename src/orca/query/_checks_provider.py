"""Checks on what the provider answered: cut off, refused, rate-limited, out of context.

These are the failures a step only reports as a symptom ("step failed: gave
up", a generic 400): the proof is on the ``provider.request`` spans under it
(status code, finish reasons, usage, the provider's error message), so these
checks read those attributes and name the request that shows the cause.
Bodies are read only where an attribute cannot tell (no usage reported, or
so few output tokens that the answer may be empty).
"""

import re
from typing import Any, Final

import orjson

from orca.query._format import as_int, clip, fmt_count, fmt_duration, short_id
from orca.query._registry import CheckScope, Finding, check
from orca.store import SpanRow

REQUEST: Final = "provider.request"
_OVERFLOW: Final = re.compile(
    r"context[_ ]length[_ ]exceeded|maximum context length|context length|context window"
    r"|prompt is too long|exceeds? (?:the )?context limit|input is too long"
    r"|maximum number of tokens allowed|reduce the length of the messages",
    re.IGNORECASE,
)
_RATE: Final = re.compile(
    r"rate[ _-]?limit|too many requests|overloaded|resource[ _]exhausted", re.IGNORECASE
)
_NUMBERS: Final = (
    (re.compile(r"maximum context length is (\d+).*?(?:resulted in|requested) (\d+)", re.I), 2, 1),
    (re.compile(r"prompt is too long: (\d+) tokens? > (\d+)", re.I), 1, 2),
)
_SUM_OVER: Final = re.compile(r"(\d+) \+ (\d+) > (\d+)")
REFUSAL_REASONS: Final = ("content_filter", "refusal")
FEW_TOKENS: Final = 4  # at most this many output tokens: read the body to see if it is empty


def sid(s: SpanRow) -> str:
    return f"{s.name} {short_id(s.span_id)}"


def span_cmd(s: SpanRow) -> str:
    return f"orca span {short_id(s.span_id)}"


def is_warm(s: SpanRow) -> bool:
    """A cache-warming send: not part of the conversation the model saw."""
    return s.attrs.get("orca.cache.send") == "warm"


def request_spans(sc: CheckScope) -> list[SpanRow]:
    """Provider round-trips: ``provider.request`` spans and any span with an HTTP status."""
    return [
        s
        for s in sc.spans
        if not s.synthetic and (s.name == REQUEST or "http.response.status_code" in s.attrs)
    ]


def error_blob(s: SpanRow) -> str:
    a = s.attrs
    keys = ("error.type", "error.message", "exception.type", "exception.message", "error.code")
    return " ".join(str(a[k]) for k in keys if a.get(k))


def finish_reasons(s: SpanRow) -> list[str]:
    """``gen_ai.response.finish_reasons`` as a list: ``"stop,length"`` or ``'["length"]'``."""
    raw = s.attrs.get("gen_ai.response.finish_reasons")
    if raw is None or raw == "":
        return []
    if type(raw) is str and raw.isalpha():
        return [raw]  # the common case: one plain reason
    text = str(raw).strip()
    if text.startswith("["):
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, list):
            return [str(x) for x in doc]
    return [r.strip().strip("\"'") for r in text.split(",") if r.strip()]


def model(s: SpanRow) -> str | None:
    v = s.attrs.get("gen_ai.request.model") or s.attrs.get("gen_ai.response.model")
    return None if v is None or v == "" else str(v)


def _later_spans(sc: CheckScope, s: SpanRow) -> list[SpanRow]:
    """Spans of the same trace that started after ``s`` ended, its ancestors left out."""
    end = s.end_ns if s.end_ns is not None else s.start_ns
    return [
        o
        for o in sc.by_trace.get(s.trace_id, ())
        if o.start_ns >= end and o.span_id != s.span_id and not sc.is_ancestor(o, s)
    ]


@check(
    "truncated-output",
    ok="no response cut off at the output limit",
    about="a provider response that stopped for length (finish_reasons length/max_tokens)",
)
def check_truncated(sc: CheckScope) -> list[Finding]:
    wanted = {r.lower() for r in sc.config.truncated_reasons}
    out: list[Finding] = []
    for s in sc.spans:
        if s.synthetic or is_warm(s):
            continue
        reasons = finish_reasons(s)
        hit = [r for r in reasons if r.lower() in wanted]
        if not hit:
            continue
        limit = s.attrs.get("gen_ai.request.max_tokens")
        outp = s.attrs.get("gen_ai.usage.output_tokens")
        figures = f"finish_reasons={','.join(reasons)}"
        if outp is not None:
            figures += f", out={fmt_count(as_int(outp))}"
        if limit is not None:
            figures += f" of max_tokens={fmt_count(as_int(limit))}"
        later = _later_spans(sc, s)
        if later:
            nxt = later[0]
            tail = (
                f"; the trace went on as if it were complete ({len(later)} later spans, "
                f"first {sid(nxt)})"
            )
        else:
            tail = "; the trace ended there"
        out.append(
            Finding(
                f"{sid(s)} was cut off at the output limit ({figures}){tail}",
                [s.span_id],
                s.trace_id,
                span_cmd(s),
            )
        )
    return out


def _overflow_figures(text: str) -> str:
    for pattern, asked, limit in _NUMBERS:
        m = pattern.search(text)
        if m:
            return f" ({fmt_count(int(m[asked]))} tokens > {fmt_count(int(m[limit]))})"
    m = _SUM_OVER.search(text)
    if m:
        asked = int(m[1]) + int(m[2])
        return f" ({fmt_count(asked)} tokens with max_tokens > {fmt_count(int(m[3]))})"
    return f": {clip(text, 80)}"


def _deepest(sc: CheckScope, spans: list[SpanRow]) -> list[SpanRow]:
    """Of spans that each match, keep those with no matching descendant (the proof, not echoes)."""
    covered: set[str] = set()
    for s in spans:
        cur = sc.parent(s)
        n = 0
        while cur is not None and n < 10_000:
            covered.add(cur.span_id)
            cur = sc.parent(cur)
            n += 1
    return [s for s in spans if s.span_id not in covered]


def _usage_spans(sc: CheckScope) -> list[SpanRow]:
    from orca.query._checks_conversation import usage_spans

    return usage_spans(sc)


@check(
    "context-overflow",
    ok="no request over its model's context window",
    about="a request refused for exceeding the context window, or input within 5% of it",
)
def check_context_overflow(sc: CheckScope) -> list[Finding]:
    refused = [
        s
        for s in sc.spans
        if s.status == "error" and not s.synthetic and _OVERFLOW.search(error_blob(s))
    ]
    out: list[Finding] = []
    for s in _deepest(sc, refused):
        m = model(s)
        for_model = f" for {m}" if m else ""
        out.append(
            Finding(
                f"{sid(s)} was refused: context window exceeded"
                f"{_overflow_figures(error_blob(s))}{for_model}",
                [s.span_id],
                s.trace_id,
                span_cmd(s),
            )
        )
    margin = sc.config.context_overflow_margin
    windows: dict[str | None, int | None] = {}
    for s in _usage_spans(sc):
        m = model(s)
        if m not in windows:
            windows[m] = sc.config.window_of(m)
        window = windows[m]
        used = as_int(s.attrs.get("gen_ai.usage.input_tokens"))
        if window is None or s.status == "error" or used < (1.0 - margin) * window:
            continue
        out.append(
            Finding(
                f"{sid(s)} sent {fmt_count(used)} input tokens, {used / window:.0%} of "
                f"{model(s)}'s {fmt_count(window)} context window (the next turn will not fit)",
                [s.span_id],
                s.trace_id,
                span_cmd(s),
            )
        )
    return out


def _rate_limited(s: SpanRow, statuses: tuple[int, ...]) -> bool:
    code = as_int(s.attrs.get("http.response.status_code"))
    if code in statuses:
        return True
    return s.status == "error" and bool(_RATE.search(error_blob(s)))


@check(
    "rate-limited",
    ok="no run of rate-limited responses",
    about="≥ 3 consecutive 429/529 (rate limit, overloaded) responses, with the time spent",
)
def check_rate_limited(sc: CheckScope) -> list[Finding]:
    cfg = sc.config
    by_trace: dict[str, list[SpanRow]] = {}
    for s in request_spans(sc):
        by_trace.setdefault(s.trace_id, []).append(s)
    out: list[Finding] = []
    for reqs in by_trace.values():
        reqs.sort(key=lambda s: (s.start_ns, s.span_id))
        i = 0
        while i < len(reqs):
            j = i
            while j < len(reqs) and _rate_limited(reqs[j], cfg.rate_limit_statuses):
                j += 1
            if j - i >= cfg.rate_limit_run:
                out.append(_storm(sc, reqs[i:j], reqs[j] if j < len(reqs) else None))
            i = max(j, i + 1)
    return out


def _storm(sc: CheckScope, run: list[SpanRow], after: SpanRow | None) -> Finding:
    first, last = run[0], run[-1]
    end = after.start_ns if after is not None else (last.end_ns or last.start_ns)
    codes = sorted({str(as_int(s.attrs.get("http.response.status_code")) or "error") for s in run})
    m = model(first)
    parent = sc.parent(first)
    where = f" in {sid(parent)}" if parent is not None else ""
    if after is not None:
        outcome = f"then {sid(after)} " + ("succeeded" if after.status == "ok" else "failed")
    elif parent is not None and parent.status == "error":
        outcome = f"then {sid(parent)} gave up"
    else:
        outcome = "and no request after them"
    return Finding(
        f"{len(run)} consecutive rate-limited responses ({'/'.join(codes)})"
        f"{' from ' + m if m else ''}{where}, {fmt_duration(end - first.start_ns)} "
        f"spent waiting; {outcome}",
        [s.span_id for s in run],
        first.trace_id,
        span_cmd(first),
    )


def _empty_body(doc: Any) -> str | None:
    """Why a parsed response is empty (OpenAI or Anthropic shape), or None when it is not."""
    if not isinstance(doc, dict):
        return None
    choices = doc.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        msg = choices[0].get("message") or {}
        if isinstance(msg, dict):
            if msg.get("refusal"):
                return f"refused: {clip(str(msg['refusal']), 60)}"
            if not str(msg.get("content") or "").strip() and not msg.get("tool_calls"):
                return "returned empty content"
        return None
    content = doc.get("content")
    if isinstance(content, list) and doc.get("type") == "message":
        if doc.get("stop_reason") == "refusal":
            return "refused (stop_reason=refusal)"
        texts = [b for b in content if isinstance(b, dict) and str(b.get("text") or "").strip()]
        tools = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not texts and not tools:
            return "returned empty content"
    return None


def _empty_reason(sc: CheckScope, s: SpanRow) -> str | None:
    reasons = [r.lower() for r in finish_reasons(s)]
    refused = [r for r in reasons if r in REFUSAL_REASONS]
    if refused:
        return f"refused (finish_reasons={','.join(reasons)})"
    a = s.attrs
    if a.get("orca.tool_calls.requested"):
        return None  # it asked for tools: that is an answer
    if "gen_ai.usage.output_tokens" in a:
        visible = as_int(a["gen_ai.usage.output_tokens"]) - as_int(
            a.get("orca.usage.reasoning_tokens")
        )
        if visible <= 0:
            return "returned no output tokens" + (
                f" ({fmt_count(as_int(a.get('orca.usage.reasoning_tokens')))} spent reasoning)"
                if a.get("orca.usage.reasoning_tokens")
                else ""
            )
        if visible > FEW_TOKENS:
            return None  # clearly said something: no need to read the body
    if sc.body is None or not s.response_body:
        return None
    raw = sc.body(s.response_body)
    if not raw:
        return None
    try:
        return _empty_body(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return None


@check(
    "empty-response",
    ok="every provider response had content",
    about="a provider response with zero output tokens or empty content, or a refusal",
)
def check_empty_response(sc: CheckScope) -> list[Finding]:
    out: list[Finding] = []
    for s in sc.spans:
        if s.name != REQUEST or s.status != "ok" or is_warm(s):
            continue
        code = as_int(s.attrs.get("http.response.status_code"))
        if code and not 200 <= code < 300:
            continue
        why = _empty_reason(sc, s)
        if why:
            out.append(Finding(f"{sid(s)} {why}", [s.span_id], s.trace_id, span_cmd(s)))
    return out
