"""A batch's spans in PostgreSQL: staged with ``COPY``, then inserted and merged in one statement.

A span's open and close may come in one batch (merged in Python, one row) or
in two (the close fills its half of the row the earlier batch wrote). The GenAI
columns statistics read are extracted here, as SQLite's ``_write`` does.
"""

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import orjson
import psycopg

from orca.store._write import genai_columns


def dumps(attrs: object) -> str | None:
    """Attributes as stored: JSON text, None when there are none."""
    return orjson.dumps(attrs).decode() if attrs else None


def copy_rows(cur: psycopg.Cursor[Any], table: str, cols: str, rows: list[Any]) -> None:
    """Stream rows into a (staging) table with ``COPY``."""
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


class GenAI(NamedTuple):
    """The span columns pre-extracted from GenAI attributes (what stats read)."""

    model: str | None
    tool: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: float | None


@dataclass(slots=True)
class SpanIn:
    """One span's records in this batch: its open, its close, or both merged."""

    trace_id: str
    span_id: str
    proc_id: int | None
    component: str
    start_ns: int
    has_open: bool = False
    parent_id: str | None = None
    name: str = "(unknown)"
    attrs_open: dict[str, Any] | None = None
    request_body: str | None = None
    request_body_bytes: int = 0
    has_close: bool = False
    end_ns: int | None = None
    status: str = "unfinished"
    attrs_close: dict[str, Any] | None = None
    response_body: str | None = None
    response_body_bytes: int = 0
    synthetic: bool = False

    def genai(self) -> GenAI:
        merged = self.attrs_open or {}
        if self.attrs_close:
            merged = {**merged, **self.attrs_close}
        return GenAI(*genai_columns(merged))


_SPAN_COLS: Final = (
    "ord, day, trace_id, span_id, has_open, has_close, parent_id, name, component, start_ns,"
    " end_ns, status, attrs_open, attrs_close, request_body, request_body_bytes, response_body,"
    " response_body_bytes, proc_id, model, tool, input_tokens, output_tokens,"
    " cache_read_tokens, cache_write_tokens, cost"
)
_STAGE_SPANS: Final = """
CREATE TEMP TABLE spans_in (
    ord INTEGER, day INTEGER, trace_id TEXT, span_id TEXT, has_open BOOLEAN, has_close BOOLEAN,
    parent_id TEXT, name TEXT, component TEXT, start_ns BIGINT, end_ns BIGINT, status TEXT,
    attrs_open TEXT, attrs_close TEXT, request_body TEXT, request_body_bytes BIGINT,
    response_body TEXT, response_body_bytes BIGINT, proc_id BIGINT, model TEXT, tool TEXT,
    input_tokens BIGINT, output_tokens BIGINT, cache_read_tokens BIGINT,
    cache_write_tokens BIGINT, cost DOUBLE PRECISION
) ON COMMIT DROP
"""


def _pick(side: str, col: str) -> str:
    return f"{col} = CASE WHEN t.{side} THEN t.{col} ELSE s.{col} END"


# One statement, one index probe per new span: the staged spans are inserted (in arrival
# order, as SQLite inserts them); those whose row an earlier batch wrote conflict, and only
# they are then merged: this batch's open and/or close fill their half of the stored row.
# The UPDATE's snapshot predates the INSERT, so it sees only rows of earlier batches.
_WRITE_SPANS: Final = f"""
WITH ins AS (
    INSERT INTO spans (day, trace_id, span_id, parent_id, name, component, start_ns, end_ns,
        status, attrs_open, attrs_close, request_body, request_body_bytes, response_body,
        response_body_bytes, proc_id, model, tool, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, cost)
    SELECT day, trace_id, span_id, parent_id, name, component, start_ns, end_ns, status,
        attrs_open, attrs_close, request_body, request_body_bytes, response_body,
        response_body_bytes, proc_id, model, tool, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, cost
    FROM spans_in ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING trace_id, span_id
)
UPDATE spans s SET
    {_pick("has_open", "parent_id")}, {_pick("has_open", "name")},
    {_pick("has_open", "component")}, {_pick("has_open", "start_ns")},
    {_pick("has_open", "attrs_open")}, {_pick("has_open", "request_body")},
    {_pick("has_open", "request_body_bytes")},
    {_pick("has_close", "end_ns")}, {_pick("has_close", "status")},
    {_pick("has_close", "attrs_close")}, {_pick("has_close", "response_body")},
    {_pick("has_close", "response_body_bytes")},
    proc_id = coalesce(s.proc_id, t.proc_id),
    model = CASE WHEN t.has_open THEN coalesce(t.model, s.model)
        ELSE coalesce(s.model, t.model) END,
    tool = CASE WHEN t.has_open THEN coalesce(t.tool, s.tool) ELSE coalesce(s.tool, t.tool) END,
    input_tokens = coalesce(t.input_tokens, s.input_tokens),
    output_tokens = coalesce(t.output_tokens, s.output_tokens),
    cache_read_tokens = coalesce(t.cache_read_tokens, s.cache_read_tokens),
    cache_write_tokens = coalesce(t.cache_write_tokens, s.cache_write_tokens),
    cost = coalesce(t.cost, s.cost)
FROM spans_in t WHERE s.trace_id = t.trace_id AND s.span_id = t.span_id
    AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.trace_id = t.trace_id AND ins.span_id = t.span_id)
"""


def write(
    cur: psycopg.Cursor[Any], spans: dict[tuple[str, str], SpanIn], days: dict[str, int]
) -> None:
    """Stage the batch's spans (``COPY``), insert the new, merge those of earlier batches."""
    cur.execute(_STAGE_SPANS)
    rows = []
    # In arrival order, as SQLite inserts them: spans starting at the same nanosecond
    # then read back in the same order on both engines.
    for ord_, s in enumerate(spans.values()):
        g = s.genai()
        rows.append(
            (
                ord_,
                days[s.trace_id],
                s.trace_id,
                s.span_id,
                s.has_open,
                s.has_close,
                s.parent_id,
                s.name,
                s.component,
                s.start_ns,
                s.end_ns,
                s.status,
                dumps(s.attrs_open),
                dumps(s.attrs_close),
                s.request_body,
                s.request_body_bytes,
                s.response_body,
                s.response_body_bytes,
                s.proc_id,
                *g,
            )
        )
    copy_rows(cur, "spans_in", _SPAN_COLS, rows)
    cur.execute(_WRITE_SPANS)
    marked = [(s.trace_id, s.span_id) for s in spans.values() if s.synthetic]
    if marked:
        cur.executemany(
            "UPDATE spans SET synthetic = true WHERE trace_id = %s AND span_id = %s", marked
        )
