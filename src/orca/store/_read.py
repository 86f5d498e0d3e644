"""The read side over SQLite: rows in, the dataclasses of ``_rows`` out.

Plain functions over a connection so the SQLite store stays a thin class and
each query can be read (and explained with ``EXPLAIN QUERY PLAN``) on its own.
"""

import sqlite3
from collections.abc import Iterator
from typing import Any, Final, Literal, NamedTuple

import orjson

from orca.store import _ledger
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LinkRow,
    LogRow,
    SpanRow,
    SpanStatus,
    TraceRows,
    TraceStatus,
    TraceSummary,
)

SPAN_COLS: Final = (
    "trace_id, span_id, parent_id, name, component, start_ns, end_ns, status, attrs,"
    " request_body, response_body, request_body_bytes, response_body_bytes,"
    " (SELECT pid FROM processes p WHERE p.id = spans.proc_id), synthetic"
)
_LOG_COLS: Final = "ts_ns, level, msg, component, trace_id, span_id, attrs"
_LINK_COLS: Final = "ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, attrs"

# Group keys the stats scan understands, as SQL expressions over spans.
STAT_KEYS: Final = {
    "name": "name",
    "model": "model",
    "component": "component",
    "tool": "tool",
}


def _attrs(text: str | None) -> dict[str, Any]:
    return orjson.loads(text) if text else {}


class _SpanCols(NamedTuple):
    """A row of ``SELECT {SPAN_COLS}``, by name."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    component: str
    start_ns: int
    end_ns: int | None
    status: SpanStatus
    attrs: str | None
    request_body: str | None
    response_body: str | None
    request_body_bytes: int
    response_body_bytes: int
    pid: int | None
    synthetic: int


def span_row(r: tuple[Any, ...]) -> SpanRow:
    c = _SpanCols._make(r)
    return SpanRow(
        trace_id=c.trace_id,
        span_id=c.span_id,
        parent_id=c.parent_id,
        name=c.name,
        component=c.component,
        start_ns=c.start_ns,
        end_ns=c.end_ns,
        status=c.status,
        attrs=_attrs(c.attrs),
        request_body=c.request_body,
        response_body=c.response_body,
        request_body_bytes=c.request_body_bytes,
        response_body_bytes=c.response_body_bytes,
        pid=c.pid,
        synthetic=bool(c.synthetic),
    )


def log_row(r: tuple[Any, ...]) -> LogRow:
    ts_ns, level, msg, component, trace_id, span_id, attrs = r
    return LogRow(ts_ns, level, msg, component, trace_id, span_id, _attrs(attrs))


def link_row(r: tuple[Any, ...]) -> LinkRow:
    ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, attrs = r
    return LinkRow(ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, _attrs(attrs))


class _Totals(NamedTuple):
    """One trace's aggregates over its spans (``summarise``)."""

    spans: int
    errors: int | None
    unfinished: int | None
    crashed: int | None
    last_end_ns: int | None
    open_spans: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float


def summarise(conn: sqlite3.Connection, trace_id: str) -> TraceSummary | None:
    """One trace's summary, aggregated from its spans (indexed by trace id)."""
    head = conn.execute(
        "SELECT start_ns, conversation_id, pinned FROM traces WHERE trace_id = ?", (trace_id,)
    ).fetchone()
    if head is None:
        return None
    first_start, conversation_id, pinned = head
    agg = _Totals._make(
        conn.execute(
            "SELECT count(*), sum(status = 'error'), sum(status = 'unfinished'),"
            " sum(synthetic AND name = ?), max(end_ns), sum(end_ns IS NULL),"
            " coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
            " coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0),"
            " coalesce(sum(cost), 0.0)"
            " FROM spans WHERE trace_id = ?",
            (CRASH_SPAN_NAME, trace_id),
        ).fetchone()
    )
    root = conn.execute(
        "SELECT span_id, name, component, start_ns, end_ns FROM spans"
        " WHERE trace_id = ? AND parent_id IS NULL AND synthetic = 0"
        " ORDER BY start_ns LIMIT 1",
        (trace_id,),
    ).fetchone()
    count, errors, unfinished = agg.spans, agg.errors or 0, agg.unfinished or 0
    crashed = agg.crashed or 0
    status: TraceStatus
    if crashed:
        status = "crashed"
    elif errors:
        status = "error"
    elif unfinished:
        status = "unfinished"
    else:
        status = "ok"
    if root is not None:
        root_id, root_name, component, start, end = root
    else:
        first = conn.execute(
            "SELECT name, component FROM spans WHERE trace_id = ? ORDER BY start_ns LIMIT 1",
            (trace_id,),
        ).fetchone()
        root_id, start = None, first_start
        root_name, component = first if first else ("(no spans)", "")
        end = agg.last_end_ns if not agg.open_spans else None
    return TraceSummary(
        trace_id=trace_id,
        root_name=root_name,
        root_span_id=root_id,
        component=component,
        start_ns=start,
        end_ns=end,
        span_count=count,
        error_count=errors,
        unfinished_count=unfinished,
        status=status,
        input_tokens=agg.input_tokens,
        output_tokens=agg.output_tokens,
        cache_read_tokens=agg.cache_read_tokens,
        cache_write_tokens=agg.cache_write_tokens,
        cost=float(agg.cost),
        conversation_id=conversation_id,
        pinned=bool(pinned),
    )


def list_traces(
    conn: sqlite3.Connection,
    *,
    limit: int | None,
    since_ns: int | None,
    status: str | None,
    conversation: str | None,
    component: str | None = None,
) -> list[TraceSummary]:
    where: list[str] = ["1"]
    args: list[Any] = []
    if since_ns is not None:
        where.append("start_ns >= ?")
        args.append(since_ns)
    if conversation is not None:
        where.append("conversation_id = ?")
        args.append(conversation)
    sql = f"SELECT trace_id FROM traces WHERE {' AND '.join(where)} ORDER BY start_ns DESC, id DESC"
    out: list[TraceSummary] = []
    # The cursor is stepped, not fetched whole: with the start_ns index the newest page of
    # 100,000 traces reads ~limit ids, not every id in the table.
    for (trace_id,) in conn.execute(sql, args):
        summary = summarise(conn, trace_id)
        if summary is None or (status is not None and summary.status != status):
            continue
        if component is not None and summary.component != component:
            continue
        out.append(summary)
        if limit is not None and len(out) >= limit:
            break
    return out


def get_trace(conn: sqlite3.Connection, trace_id: str) -> TraceRows | None:
    summary = summarise(conn, trace_id)
    if summary is None:
        return None
    spans = [
        span_row(r)
        for r in conn.execute(
            f"SELECT {SPAN_COLS} FROM spans WHERE trace_id = ? ORDER BY start_ns, id", (trace_id,)
        )
    ]
    logs = [
        log_row(r)
        for r in conn.execute(
            f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = ? ORDER BY ts_ns, id", (trace_id,)
        )
    ]
    links = [
        link_row(r)
        for r in conn.execute(
            f"SELECT {_LINK_COLS} FROM links WHERE trace_id = ? OR to_trace_id = ?"
            " ORDER BY ts_ns, id",
            (trace_id, trace_id),
        )
    ]
    return TraceRows(summary, spans, logs, links, _ledger.for_trace(conn, trace_id))


def get_span(conn: sqlite3.Connection, span_id: str) -> SpanRow | None:
    r = conn.execute(
        f"SELECT {SPAN_COLS} FROM spans WHERE span_id = ? ORDER BY id LIMIT 1", (span_id,)
    ).fetchone()
    return None if r is None else span_row(r)


def _traces_of(conn: sqlite3.Connection, span_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT trace_id FROM spans WHERE span_id = ?", (span_id,))]


def span_logs(conn: sqlite3.Connection, span_id: str) -> list[LogRow]:
    traces = _traces_of(conn, span_id)
    out: list[LogRow] = []
    for trace_id in traces:
        out.extend(
            log_row(r)
            for r in conn.execute(
                f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = ? AND span_id = ?"
                " ORDER BY ts_ns, id",
                (trace_id, span_id),
            )
        )
    return out


def span_links(conn: sqlite3.Connection, span_id: str) -> list[LinkRow]:
    traces = _traces_of(conn, span_id)
    out: list[LinkRow] = []
    for trace_id in traces:
        out.extend(
            link_row(r)
            for r in conn.execute(
                f"SELECT {_LINK_COLS} FROM links WHERE (trace_id = ? AND span_id = ?)"
                " OR (to_trace_id = ? AND to_span_id = ?) ORDER BY ts_ns, id",
                (trace_id, span_id, trace_id, span_id),
            )
        )
    return out


def resolve_id(conn: sqlite3.Connection, prefix: str, kind: Literal["trace", "span"]) -> list[str]:
    prefix = prefix.lower()
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        return []
    table, col = ("traces", "trace_id") if kind == "trace" else ("spans", "span_id")
    hi = prefix + "g"  # 'g' sorts after every hex digit: [prefix, prefix+'g') is the range
    rows = conn.execute(
        f"SELECT DISTINCT {col} FROM {table} WHERE {col} >= ? AND {col} < ? LIMIT 2",
        (prefix, hi),
    )
    return [r[0] for r in rows]


def find_spans(
    conn: sqlite3.Connection, *, name: str | None, since_ns: int | None, limit: int | None
) -> Iterator[SpanRow]:
    where: list[str] = ["1"]
    args: list[Any] = []
    if name is not None:
        where.append("name = ?")
        args.append(name)
    if since_ns is not None:
        where.append("start_ns >= ?")
        args.append(since_ns)
    sql = f"SELECT {SPAN_COLS} FROM spans WHERE {' AND '.join(where)} ORDER BY start_ns, id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    for r in conn.execute(sql, args):
        yield span_row(r)


from orca.store._protocol import SpanStat  # noqa: E402  (the protocol imports rows from here)


def span_stats(
    conn: sqlite3.Connection, *, group_by: str, since_ns: int | None
) -> Iterator["SpanStat"]:
    if group_by not in STAT_KEYS:
        raise ValueError(f"group_by must be one of {', '.join(STAT_KEYS)}, got {group_by!r}")
    sql = (
        f"SELECT {STAT_KEYS[group_by]}, end_ns - start_ns, status, coalesce(input_tokens, 0),"
        " coalesce(output_tokens, 0), coalesce(cache_read_tokens, 0), coalesce(cost, 0.0)"
        " FROM spans"
    )
    args: list[Any] = []
    if since_ns is not None:
        sql += " WHERE start_ns >= ?"
        args.append(since_ns)
    return map(SpanStat._make, conn.execute(sql, args))
