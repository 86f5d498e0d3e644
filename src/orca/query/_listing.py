"""Lists: ``orca traces`` (newest first) and ``orca search`` hits, as text and JSON."""

from collections.abc import Sequence
from typing import Any, Final

from orca._table import Column, text_table
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
TRACE_COLUMNS: Final = (
    *(Column(title, width) for title, width in (("trace", 16), ("root", 18), ("start", 20))),
    Column("dur", 6, right=True),
    Column("spans", 5, right=True),
    Column("status", 10),
    *(Column(t, w, right=True) for t, w in (("err", 3), ("in", 6), ("out", 6), ("cost", 8))),
    Column("conversation", gap=2),
)


def render_traces(rows: Sequence[TraceSummary]) -> str:
    """One line per trace: id, root, start, duration, spans, status, errors, tokens, cost."""
    cells = [
        (
            short_trace(s.trace_id),
            clip(s.root_name, 18),
            iso_ns(s.start_ns),
            "-" if s.end_ns is None else fmt_duration(s.end_ns - s.start_ns),
            str(s.span_count),
            s.status,
            str(s.error_count),
            fmt_count(s.input_tokens),
            fmt_count(s.output_tokens),
            fmt_cost(s.cost),
            clip(s.conversation_id or "-", 32),
        )
        for s in rows
    ]
    return text_table(TRACE_COLUMNS, cells, empty="(no traces)")


def traces_json(rows: Sequence[TraceSummary]) -> dict[str, Any]:
    """The documented ``orca traces --json`` shape (docs/query.md), for CLI, HTTP and the UI."""
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
    """The documented ``orca search --json`` shape (docs/query.md), for CLI, HTTP and MCP."""
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
