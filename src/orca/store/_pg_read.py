"""The read side over PostgreSQL: the same rows (``_rows``) as SQLite's ``_read``.

Results must equal SQLite's for the same journal (the contract suite and the
golden CLI test compare them), so orderings tie-break on insertion order
(``seq``) as SQLite's do on ``id``, text keys sort bytewise (``COLLATE "C"``)
as SQLite's do, and a span's attributes are its open's updated by its close's.
"""

from collections.abc import Callable, Iterator
from typing import Any, Final, Literal, TypeVar

import orjson
import psycopg

from orca.errors import UsageError
from orca.store._aggregate import SpanGroup, rank
from orca.store._ledger import _row as ledger_row
from orca.store._protocol import SpanStat
from orca.store._read import STAT_KEYS
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LedgerRow,
    LinkRow,
    LogRow,
    SpanRow,
    SpanStatus,
    TraceRows,
    TraceStatus,
    TraceSummary,
)

Conn = psycopg.Connection[Any]

SPAN_COLS: Final = (
    "trace_id, span_id, parent_id, name, component, spans.start_ns, end_ns, status, attrs_open,"
    " attrs_close, request_body, response_body, request_body_bytes, response_body_bytes,"
    " p.pid, synthetic"
)  # span_from's parameters, in this order; select them FROM :data:`SPANS`
# The writer's pid by a join, not a sub-select per row (a third of reading a big trace).
SPANS: Final = "spans LEFT JOIN processes p ON p.id = spans.proc_id"
_LOG_COLS: Final = "ts_ns, level, msg, component, trace_id, span_id, attrs"
_LINK_COLS: Final = "ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, attrs"
_LEDGER_COLS: Final = (
    "id, ts_ns, kind, run, trace_id, span_id, actor, prev, hash, payload_hash, payload,"
    " erased, signature, key_id"
)


def _attrs(text: str | None) -> dict[str, Any]:
    return orjson.loads(text) if text else {}


def span_from(
    trace_id: str,
    span_id: str,
    parent_id: str | None,
    name: str,
    component: str,
    start_ns: int,
    end_ns: int | None,
    status: SpanStatus,
    attrs_open: str | None,
    attrs_close: str | None,
    request_body: str | None,
    response_body: str | None,
    request_body_bytes: int,
    response_body_bytes: int,
    pid: int | None,
    synthetic: bool,
) -> SpanRow:
    """A span row from :data:`SPAN_COLS` (psycopg's ``args_row``): open attrs, then close's.

    Columns arrive as this function's parameters, in :data:`SPAN_COLS` order: no
    per-row dict (``kwargs_row``), which was half the cost of reading a big trace.
    """
    attrs = orjson.loads(attrs_open) if attrs_open else {}
    if attrs_close:
        attrs.update(orjson.loads(attrs_close))
    # Positional, in SpanRow's field order (mypy checks each type): a keyword call costs a
    # fifth more per row, and a 10,000-span trace builds 10,000 of them.
    return SpanRow(
        trace_id,
        span_id,
        parent_id,
        name,
        component,
        start_ns,
        end_ns,
        status,
        attrs,
        request_body,
        response_body,
        request_body_bytes,
        response_body_bytes,
        pid,
        synthetic,
    )


def spans(conn: Conn, sql: str, args: Any = ()) -> list[SpanRow]:
    """The spans a query selects (its columns must be :data:`SPAN_COLS`)."""
    from psycopg.rows import args_row

    with conn.cursor(row_factory=args_row(span_from), binary=True) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


R = TypeVar("R", LogRow, LinkRow)


def _with_attrs(row: type[R]) -> Callable[..., R]:
    """A psycopg row factory's maker: a row by column name, its ``attrs`` JSON parsed."""

    def make(*, attrs: str | None, **cols: Any) -> R:
        return row(attrs=_attrs(attrs), **cols)

    return make


def _fetch(conn: Conn, sql: str, args: Any, row: type[R]) -> list[R]:
    from psycopg.rows import kwargs_row

    with conn.cursor(row_factory=kwargs_row(_with_attrs(row))) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _ledger_row(r: dict[str, Any]) -> LedgerRow:
    return ledger_row(tuple(r[c.strip()] for c in _LEDGER_COLS.split(",")))


def _dicts(conn: Conn, sql: str, args: Any = ()) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _root(col: str) -> str:
    """The earliest non-synthetic root's ``col``: an ordered aggregate over the roots only."""
    return (
        f"(array_agg({col} ORDER BY start_ns, seq)"
        f" FILTER (WHERE parent_id IS NULL AND NOT synthetic))[1] AS root_{col}"
    )


# One pass over the trace's rows (by its key): the counts, the sums and the root. The
# trace's head comes from the same statement.
_SUMMARY: Final = (
    "SELECT t.start_ns AS head_start, t.conversation_id, t.pinned, a.* FROM traces t, ("
    "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'error') AS errors,"
    " count(*) FILTER (WHERE status = 'unfinished') AS unfinished,"
    " count(*) FILTER (WHERE synthetic AND name = %s) AS crashed, max(end_ns) AS last_end,"
    " count(*) FILTER (WHERE end_ns IS NULL) AS open,"
    " coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,"
    " coalesce(sum(cache_read_tokens), 0) AS cr, coalesce(sum(cache_write_tokens), 0) AS cw,"
    f" coalesce(sum(cost), 0.0) AS cost, {_root('span_id')}, {_root('name')},"
    f" {_root('component')}, {_root('start_ns')}, {_root('end_ns')}"
    " FROM spans WHERE trace_id = %s) a WHERE t.trace_id = %s"
)


def summarise(conn: Conn, trace_id: str) -> TraceSummary | None:
    found = _dicts(conn, _SUMMARY, (CRASH_SPAN_NAME, trace_id, trace_id))
    if not found:
        return None
    agg = head = found[0]
    status: TraceStatus
    if agg["crashed"]:
        status = "crashed"
    elif agg["errors"]:
        status = "error"
    elif agg["unfinished"]:
        status = "unfinished"
    else:
        status = "ok"
    if agg["root_span_id"] is not None:
        root_id, root_name, component = agg["root_span_id"], agg["root_name"], agg["root_component"]
        start, end = agg["root_start_ns"], agg["root_end_ns"]
    else:
        first = _dicts(
            conn,
            "WITH r AS MATERIALIZED (SELECT name, component, start_ns, seq FROM spans"
            " WHERE trace_id = %s) SELECT name, component FROM r ORDER BY start_ns, seq LIMIT 1",
            (trace_id,),
        )
        root_id, start = None, head["head_start"]
        root_name, component = (
            (first[0]["name"], first[0]["component"]) if first else ("(no spans)", "")
        )
        end = agg["last_end"] if not agg["open"] else None
    return TraceSummary(
        trace_id=trace_id,
        root_name=root_name,
        root_span_id=root_id,
        component=component,
        start_ns=start,
        end_ns=end,
        span_count=agg["n"],
        error_count=agg["errors"],
        unfinished_count=agg["unfinished"],
        status=status,
        input_tokens=int(agg["i"]),
        output_tokens=int(agg["o"]),
        cache_read_tokens=int(agg["cr"]),
        cache_write_tokens=int(agg["cw"]),
        cost=float(agg["cost"]),
        conversation_id=head["conversation_id"],
        pinned=bool(head["pinned"]),
    )


def list_traces(
    conn: Conn,
    *,
    limit: int | None = 20,
    since_ns: int | None = None,
    status: str | None = None,
    conversation: str | None = None,
    component: str | None = None,
) -> list[TraceSummary]:
    """Traces newest first; ``component`` is the root's (as SQLite filters it)."""
    where: list[str] = ["true"]
    args: list[Any] = []
    if since_ns is not None:
        where.append("start_ns >= %s")
        args.append(since_ns)
    if conversation is not None:
        where.append("conversation_id = %s")
        args.append(conversation)
    sql = (
        f"SELECT trace_id FROM traces WHERE {' AND '.join(where)} ORDER BY start_ns DESC, seq DESC"
    )
    out: list[TraceSummary] = []
    for r in _dicts(conn, sql, args):
        summary = summarise(conn, r["trace_id"])
        if summary is None or (status is not None and summary.status != status):
            continue
        if component is not None and summary.component != component:
            continue
        out.append(summary)
        if limit is not None and len(out) >= limit:
            break
    return out


def get_trace(conn: Conn, trace_id: str) -> TraceRows | None:
    summary = summarise(conn, trace_id)
    if summary is None:
        return None
    found = spans(
        conn,
        f"SELECT {SPAN_COLS} FROM {SPANS} WHERE trace_id = %s ORDER BY spans.start_ns, seq",
        (trace_id,),
    )
    logs = _fetch(
        conn,
        f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = %s ORDER BY ts_ns, id",
        (trace_id,),
        LogRow,
    )
    links = _fetch(
        conn,
        f"SELECT {_LINK_COLS} FROM links WHERE trace_id = %s OR to_trace_id = %s"
        " ORDER BY ts_ns, id",
        (trace_id, trace_id),
        LinkRow,
    )
    ledger = [
        _ledger_row(r)
        for r in _dicts(
            conn,
            f"SELECT {_LEDGER_COLS} FROM ledger WHERE trace_id = %s ORDER BY id, origin",
            (trace_id,),
        )
    ]
    return TraceRows(summary, found, logs, links, ledger)


def get_span(conn: Conn, span_id: str) -> SpanRow | None:
    rows = spans(
        conn, f"SELECT {SPAN_COLS} FROM {SPANS} WHERE span_id = %s ORDER BY seq LIMIT 1", (span_id,)
    )
    return rows[0] if rows else None


def span_logs(conn: Conn, span_id: str) -> list[LogRow]:
    """Log records inside one span, oldest first."""
    return _fetch(
        conn,
        f"SELECT {_LOG_COLS} FROM logs WHERE span_id = %s AND trace_id IN"
        " (SELECT trace_id FROM spans WHERE span_id = %s) ORDER BY ts_ns, id",
        (span_id, span_id),
        LogRow,
    )


def span_links(conn: Conn, span_id: str) -> list[LinkRow]:
    """Links from and to one span."""
    return _fetch(
        conn,
        f"SELECT {_LINK_COLS} FROM links WHERE (span_id = %s AND trace_id IN"
        " (SELECT trace_id FROM spans WHERE span_id = %s)) OR (to_span_id = %s AND"
        " to_trace_id IN (SELECT trace_id FROM spans WHERE span_id = %s))"
        " ORDER BY ts_ns, id",
        (span_id, span_id, span_id, span_id),
        LinkRow,
    )


def resolve_id(conn: Conn, prefix: str, kind: Literal["trace", "span"]) -> list[str]:
    prefix = prefix.lower()
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        return []
    table, col = ("traces", "trace_id") if kind == "trace" else ("spans", "span_id")
    rows = _dicts(
        conn,
        f'SELECT DISTINCT {col} AS id FROM {table} WHERE {col} COLLATE "C" >= %s'
        f' AND {col} COLLATE "C" < %s LIMIT 2',
        (prefix, prefix + "g"),
    )
    return [r["id"] for r in rows]


def find_spans(
    conn: Conn, *, name: str | None = None, since_ns: int | None = None, limit: int | None = None
) -> Iterator[SpanRow]:
    where: list[str] = ["true"]
    args: list[Any] = []
    if name is not None:
        where.append("name = %s")
        args.append(name)
    if since_ns is not None:
        where.append("start_ns >= %s")
        args.append(since_ns)
    sql = (
        f"SELECT {SPAN_COLS} FROM {SPANS} WHERE {' AND '.join(where)} ORDER BY spans.start_ns, seq"
    )
    if limit is not None:
        sql += " LIMIT %s"
        args.append(limit)
    return iter(spans(conn, sql, args))  # read whole inside the caller's snapshot


def span_stats(
    conn: Conn, *, group_by: str = "name", since_ns: int | None = None
) -> Iterator[SpanStat]:
    if group_by not in STAT_KEYS:
        raise UsageError(f"group_by must be one of {', '.join(STAT_KEYS)}, got {group_by!r}")
    sql = (
        f"SELECT {STAT_KEYS[group_by]}, end_ns - start_ns, status, coalesce(input_tokens, 0),"
        " coalesce(output_tokens, 0), coalesce(cache_read_tokens, 0), coalesce(cost, 0.0)"
        " FROM spans"
    )
    args: list[Any] = []
    if since_ns is not None:
        sql += " WHERE start_ns >= %s"
        args.append(since_ns)
    return iter([SpanStat._make(r) for r in conn.execute(sql, args)])  # read in the snapshot


def span_groups(
    conn: Conn, *, group_by: str = "name", since_ns: int | None = None
) -> list[SpanGroup]:
    """Per key in one pass; percentiles by nearest rank over each key's closed spans."""
    if group_by not in STAT_KEYS:
        raise UsageError(f"group_by must be one of {', '.join(STAT_KEYS)}, got {group_by!r}")
    key = STAT_KEYS[group_by]
    where = f"{key} IS NOT NULL" + (" AND start_ns >= %s" if since_ns is not None else "")
    rows = _dicts(
        conn,
        f"SELECT {key} AS key, count(*) AS n,"
        " count(*) FILTER (WHERE status = 'error') AS errors,"
        " count(*) FILTER (WHERE status = 'unfinished') AS unfinished,"
        " count(end_ns) AS timed,"
        " array_agg(end_ns - start_ns ORDER BY end_ns - start_ns)"
        "  FILTER (WHERE end_ns IS NOT NULL) AS durations,"
        " coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,"
        " coalesce(sum(cache_read_tokens), 0) AS cr, coalesce(sum(cost), 0.0) AS cost"
        f' FROM spans WHERE {where} GROUP BY {key} ORDER BY {key} COLLATE "C"',
        (since_ns,) if since_ns is not None else (),
    )
    out = []
    for r in rows:
        durations = r["durations"] or []
        n = len(durations)
        out.append(
            SpanGroup(
                key=r["key"],
                count=r["n"],
                errors=r["errors"],
                unfinished=r["unfinished"],
                timed=r["timed"],
                p50_ns=durations[rank(n, 0.5)] if n else None,
                p95_ns=durations[rank(n, 0.95)] if n else None,
                input_tokens=int(r["i"]),
                output_tokens=int(r["o"]),
                cache_read_tokens=int(r["cr"]),
                cost=float(r["cost"]),
            )
        )
    return out


def ledger(
    conn: Conn,
    *,
    run: str | None = None,
    trace: str | None = None,
    since_ns: int | None = None,
    limit: int | None = None,
) -> list[LedgerRow]:
    where: list[str] = ["true"]
    args: list[Any] = []
    for col, value in (("run", run), ("trace_id", trace)):
        if value is not None:
            where.append(f"{col} = %s")
            args.append(value)
    if since_ns is not None:
        where.append("ts_ns >= %s")
        args.append(since_ns)
    sql = f"SELECT {_LEDGER_COLS} FROM ledger WHERE {' AND '.join(where)} ORDER BY id, origin"
    if limit is not None:
        sql += " LIMIT %s"
        args.append(limit)
    return [_ledger_row(r) for r in _dicts(conn, sql, args)]
