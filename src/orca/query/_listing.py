"""Lists: ``orca traces`` (newest first) and ``orca search`` hits, as text and JSON."""

from collections.abc import Sequence
from typing import Any, Final

from orca.query._format import (
    clip,
    fmt_cost,
    fmt_count,
    fmt_duration,
    short_id,
    short_trace,
)
from orca.query._skeleton import iso_ns, summary_json
from orca.store import SearchHit, TraceSummary

SNIPPET_CHARS: Final = 160


def render_traces(rows: Sequence[TraceSummary]) -> str:
    """One line per trace: id, root, start, duration, spans, status, errors, tokens, cost."""
    out = [
        f"{'trace':<16} {'root':<18} {'start':<20} {'dur':>6} {'spans':>5} {'status':<10}"
        f" {'err':>3} {'in':>6} {'out':>6} {'cost':>8}  conversation"
    ]
    for s in rows:
        dur = None if s.end_ns is None else s.end_ns - s.start_ns
        out.append(
            f"{short_trace(s.trace_id):<16} {clip(s.root_name, 18):<18} {iso_ns(s.start_ns):<20}"
            f" {fmt_duration(dur) if dur is not None else '-':>6} {s.span_count:>5}"
            f" {s.status:<10} {s.error_count:>3} {fmt_count(s.input_tokens):>6}"
            f" {fmt_count(s.output_tokens):>6} {fmt_cost(s.cost):>8}"
            f"  {clip(s.conversation_id or '-', 32)}"
        )
    if not rows:
        out.append("(no traces)")
    return "\n".join(out) + "\n"


def traces_json(rows: Sequence[TraceSummary]) -> dict[str, Any]:
    return {"traces": [summary_json(s) for s in rows]}


def _plain_snippet(snippet: str) -> str:
    return clip(snippet, SNIPPET_CHARS)


def render_search(hits: Sequence[SearchHit]) -> str:
    """``<span8> <trace8> <when> <where>: …snippet with [match]…``, newest first."""
    out = []
    for h in hits:
        out.append(
            f"{short_id(h.span_id) or '-':<8} {short_trace(h.trace_id) or '-':<16}"
            f" {iso_ns(h.ts_ns)} {h.where:<6} {_plain_snippet(h.snippet)}"
        )
    if not hits:
        out.append("(no matches)")
    return "\n".join(out) + "\n"


def search_json(text: str, hits: Sequence[SearchHit]) -> dict[str, Any]:
    return {
        "query": text,
        "hits": [
            {
                "trace_id": h.trace_id,
                "span_id": h.span_id,
                "ts_ns": h.ts_ns,
                "where": h.where,
                "snippet": h.snippet,
            }
            for h in hits
        ],
    }
