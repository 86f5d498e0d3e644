"""One span → one short label: what a reader needs to decide whether to look closer.

Labels are lists of ``(text, style)`` parts so the same words render plain
(piped, for an LLM agent) or coloured (a terminal). Styles are names, not
colours: ``name``, ``dim``, ``dur``, ``ok``, ``error``, ``warn``, ``crash``.
"""

import re
from typing import Final

import orjson

from orca.query._format import as_float, as_int, clip, fmt_cost, fmt_count, fmt_duration
from orca.store import CRASH_SPAN_NAME, SpanRow

Part = tuple[str, str]  # (text, style): a piece of a label, rendered plain or coloured

ERROR_TEXT_CHARS: Final = 60
_LONG_HEX: Final = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{8,24}\b")

IN_TOKENS: Final = "gen_ai.usage.input_tokens"
OUT_TOKENS: Final = "gen_ai.usage.output_tokens"
CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE: Final = "gen_ai.usage.cache_write.input_tokens"
CACHE_WRITE_OLD: Final = "gen_ai.usage.cache_creation.input_tokens"
COST: Final = "orca.cost.usd"


def model_of(span: SpanRow) -> str | None:
    value = span.attrs.get("gen_ai.response.model") or span.attrs.get("gen_ai.request.model")
    return None if value is None else str(value)


def usage_parts(span: SpanRow) -> list[Part]:
    """``in=812 out=95 cache_read=700 cache_write=0 $0.0031``, leaving out what is absent."""
    a = span.attrs
    out: list[Part] = []
    for key, label in ((IN_TOKENS, "in"), (OUT_TOKENS, "out"), (CACHE_READ, "cache_read")):
        if key in a:
            out.append((f"{label}={fmt_count(as_int(a[key]))}", "dim"))
    write = a.get(CACHE_WRITE, a.get(CACHE_WRITE_OLD))
    if write is not None and as_int(write):
        out.append((f"cache_write={fmt_count(as_int(write))}", "dim"))
    if COST in a:
        out.append((fmt_cost(as_float(a[COST])), "dim"))
    return out


def error_text(span: SpanRow) -> str:
    """Why a span failed, in one short line (message, else type, else nothing)."""
    a = span.attrs
    msg = a.get("exception.message") or a.get("error.message") or a.get("error.type") or ""
    return clip(shorten_ids(str(msg)), ERROR_TEXT_CHARS)


def shorten_ids(text: str) -> str:
    """Cut 16- and 32-digit hex ids inside free text to their 8-digit prefix."""
    return _LONG_HEX.sub(r"\1", text)


def outcome_parts(span: SpanRow, *, ok_size: bool = False) -> list[Part]:
    """``→ ok (2.0k)``, ``→ ERROR exit 2`` or ``⚠ unfinished``."""
    if span.status == "unfinished":
        return [("⚠ unfinished", "warn")]
    if span.status == "error":
        text = error_text(span)
        return [("→ ERROR" + (f" {text}" if text else ""), "error")]
    if ok_size:
        size = f" ({fmt_count(span.response_body_bytes)})" if span.response_body_bytes else ""
        return [(f"→ ok{size}", "ok")]
    return []


def _dur(span: SpanRow) -> list[Part]:
    return [] if span.status == "unfinished" else [(fmt_duration(span.duration_ns), "dur")]


def _attr(span: SpanRow, key: str, limit: int = 24) -> str | None:
    value = span.attrs.get(key)
    return None if value is None or value == "" else clip(str(value), limit)


def _segments_summary(span: SpanRow) -> list[Part]:
    raw = span.attrs.get("orca.prompt.segments")
    if not isinstance(raw, str):
        return []
    try:
        segs = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return [("segments=?", "dim")]
    if not isinstance(segs, list):
        return []
    chars = sum(as_int(s.get("chars")) for s in segs if isinstance(s, dict))
    return [(f"{len(segs)} segments {fmt_count(chars)} chars", "dim")]


def label(span: SpanRow) -> list[Part]:
    """The label of one span, by kind; unknown names are shown as-is."""
    name = span.name
    if span.synthetic and name == CRASH_SPAN_NAME:
        msg = span.attrs.get("exception.message") or "process exited unexpectedly"
        return [(f"✖ {shorten_ids(str(msg))}", "crash")]
    parts: list[Part]
    if name == "turn":
        parts = [("turn", "name")]
        for key, prefix in (("gen_ai.agent.name", ""), ("gen_ai.conversation.id", "conv=")):
            value = _attr(span, key)
            if value:
                parts.append((prefix + value, ""))
        return parts + _dur(span) + outcome_parts(span)
    if name in ("step", "provider.request"):
        parts = [(name, "name")]
        model = model_of(span)
        if model:
            parts.append((clip(model, 32), ""))
        parts += _dur(span) + usage_parts(span)
        status = as_int(span.attrs.get("http.response.status_code"))
        if status >= 400:
            parts.append((f"http={status}", "error"))
        fp = span.attrs.get("orca.prefix.fingerprint")
        if name == "provider.request" and isinstance(fp, str):
            parts.append((f"fp={fp[:8]}", "dim"))
        return parts + outcome_parts(span)
    if name == "tool-call":
        tool = _attr(span, "gen_ai.tool.name", 40) or "?"
        parts = [("tool", "name"), (tool, ""), *_dur(span)]
        if span.status == "ok" and span.attrs.get("orca.tool.is_error") is True:
            return [*parts, ("→ ERROR (tool reported)", "error")]
        return parts + outcome_parts(span, ok_size=True)
    if name == "agent":
        agent = _attr(span, "gen_ai.agent.name", 40) or "?"
        return [("agent", "name"), (agent, ""), *_dur(span), *outcome_parts(span)]
    if name == "handoff":
        moves = [_attr(span, "orca.handoff.from", 32) or "?", _attr(span, "orca.handoff.to", 32)]
        text = " → ".join(m for m in moves if m)
        return [("handoff", "name"), (text, ""), *_dur(span), *outcome_parts(span)]
    if name == "prompt.assembly":
        return [(name, "name"), *_dur(span), *_segments_summary(span), *outcome_parts(span)]
    if name.startswith("queue."):
        parts = [(name, "name")]
        msg_id = _attr(span, "messaging.message.id")
        if msg_id:
            parts.append((f"msg={msg_id}", ""))
        target = _attr(span, "orca.queue.target_conversation")
        if name == "queue.deliver":
            target = _attr(span, "gen_ai.conversation.id") or target
        if target:
            parts.append((f"→ conv {target}", ""))
        return parts + _dur(span) + outcome_parts(span)
    return [(name, "name"), *_dur(span), *outcome_parts(span)]
