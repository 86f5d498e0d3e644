"""The read side over SQLite: rows in, the dataclasses of ``_rows`` out.

Plain functions over a connection so the SQLite store stays a thin class and
each query can be read (and explained with ``EXPLAIN QUERY PLAN``) on its own.
"""

import sqlite3
from collections.abc import Iterator
from typing import Any, Final, Literal, NamedTuple

import orjson

from orca.errors import UsageError
from orca.store import _ledger
from orca.store._attrs import DECODE as ATTRS_JSON
from orca.store._ids import Key, key, prefix_bounds, sql_text, text, text_or_none
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LinkRow,
    LogRow,
    SpanRow,
    TraceRows,
    TraceStatus,
    TraceSummary,
)

# Ids and body hashes leave SQLite as text (``sql_text``: hex() in C), not one Python call
# per id per row: a 10k-span trace read three times faster than converting 30k ids in Python.
SPAN_COLS: Final = (
    f"{sql_text('trace_id')}, {sql_text('span_id')}, {sql_text('parent_id')},"
    f" name, component, start_ns, end_ns, status, {ATTRS_JSON}(attrs),"
    f" {sql_text('request_body')}, {sql_text('response_body')},"
    " request_body_bytes, response_body_bytes,"
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


def span_row(r: tuple[Any, ...]) -> SpanRow:
    (trace_id, span_id, parent_id, name, component, start_ns, end_ns, status, attrs,
     request_body, response_body, request_bytes, response_bytes, pid, synthetic) = r  # fmt: skip
    return SpanRow(
        trace_id, span_id, parent_id, name, component, start_ns, end_ns, status, _attrs(attrs),
        request_body, response_body, request_bytes, response_bytes, pid, bool(synthetic),
    )  # fmt: skip


def log_row(r: tuple[Any, ...]) -> LogRow:
    ts_ns, level, msg, component, trace_id, span_id, attrs = r
    return LogRow(
        ts_ns, level, msg, component, text_or_none(trace_id), text_or_none(span_id), _attrs(attrs)
    )


def link_row(r: tuple[Any, ...]) -> LinkRow:
    ts_ns, trace, span, to_trace, to_span, reason, attrs = r
    ends = (text(trace), text(span), text(to_trace), text(to_span))
    return LinkRow(ts_ns, *ends, reason=reason, attrs=_attrs(attrs))


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
    return _summarise(conn, key(trace_id), trace_id)


def _summarise(conn: sqlite3.Connection, k: Key, trace_id: str) -> TraceSummary | None:
    head = conn.execute(
        "SELECT start_ns, conversation_id, pinned FROM traces WHERE trace_id = ?", (k,)
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
            (CRASH_SPAN_NAME, k),
        ).fetchone()
    )
    root = conn.execute(
        "SELECT span_id, name, component, start_ns, end_ns FROM spans"
        " WHERE trace_id = ? AND parent_id IS NULL AND synthetic = 0"
        " ORDER BY start_ns LIMIT 1",
        (k,),
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
        root_key, root_name, component, start, end = root
        root_id = text(root_key)
    else:
        first = conn.execute(
            "SELECT name, component FROM spans WHERE trace_id = ? ORDER BY start_ns LIMIT 1",
            (k,),
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
    for (k,) in conn.execute(sql, args):
        summary = _summarise(conn, k, text(k))
        if summary is None or (status is not None and summary.status != status):
            continue
        if component is not None and summary.component != component:
            continue
        out.append(summary)
        if limit is not None and len(out) >= limit:
            break
    return out


def get_trace(conn: sqlite3.Connection, trace_id: str) -> TraceRows | None:
    k = key(trace_id)
    summary = _summarise(conn, k, trace_id)
    if summary is None:
        return None
    spans = [
        span_row(r)
        for r in conn.execute(
            f"SELECT {SPAN_COLS} FROM spans WHERE trace_id = ? ORDER BY start_ns, id", (k,)
        )
    ]
    logs = [
        log_row(r)
        for r in conn.execute(
            f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = ? ORDER BY ts_ns, id", (k,)
        )
    ]
    links = [
        link_row(r)
        for r in conn.execute(
            f"SELECT {_LINK_COLS} FROM links WHERE trace_id = ? OR to_trace_id = ?"
            " ORDER BY ts_ns, id",
            (k, k),
        )
    ]
    return TraceRows(summary, spans, logs, links, _ledger.for_trace(conn, trace_id))


def get_span(conn: sqlite3.Connection, span_id: str) -> SpanRow | None:
    r = conn.execute(
        f"SELECT {SPAN_COLS} FROM spans WHERE span_id = ? ORDER BY id LIMIT 1", (key(span_id),)
    ).fetchone()
    return None if r is None else span_row(r)


def _traces_of(conn: sqlite3.Connection, span: Key) -> list[Key]:
    return [t for (t,) in conn.execute("SELECT trace_id FROM spans WHERE span_id = ?", (span,))]


def span_logs(conn: sqlite3.Connection, span_id: str) -> list[LogRow]:
    span = key(span_id)
    traces = _traces_of(conn, span)
    out: list[LogRow] = []
    for trace_id in traces:
        out.extend(
            log_row(r)
            for r in conn.execute(
                f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = ? AND span_id = ?"
                " ORDER BY ts_ns, id",
                (trace_id, span),
            )
        )
    return out


def span_links(conn: sqlite3.Connection, span_id: str) -> list[LinkRow]:
    span = key(span_id)
    traces = _traces_of(conn, span)
    out: list[LinkRow] = []
    for trace_id in traces:
        out.extend(
            link_row(r)
            for r in conn.execute(
                f"SELECT {_LINK_COLS} FROM links WHERE (trace_id = ? AND span_id = ?)"
                " OR (to_trace_id = ? AND to_span_id = ?) ORDER BY ts_ns, id",
                (trace_id, span, trace_id, span),
            )
        )
    return out


def resolve_id(conn: sqlite3.Connection, prefix: str, kind: Literal["trace", "span"]) -> list[str]:
    prefix = prefix.lower()
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        return []
    table, col = ("traces", "trace_id") if kind == "trace" else ("spans", "span_id")
    lo, hi = prefix_bounds(prefix)  # hex ids are blobs (see _ids) ...
    # ... and an odd-length one is text: 'g' sorts after every hex digit
    rows = conn.execute(
        f"SELECT DISTINCT {col} FROM {table} WHERE {col} BETWEEN ? AND ?"
        f" UNION SELECT DISTINCT {col} FROM {table} WHERE {col} >= ? AND {col} < ? LIMIT 2",
        (lo, hi, prefix, prefix + "g"),
    )
    return [text(r[0]) for r in rows]


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
        raise UsageError(f"group_by must be one of {', '.join(STAT_KEYS)}, got {group_by!r}")
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
