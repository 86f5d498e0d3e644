"""The read side over PostgreSQL: the same rows (``_rows``) as SQLite's ``_read``.

Results must equal SQLite's for the same journal (the contract suite and the
golden CLI test compare them), so orderings tie-break on insertion order
(``seq``) as SQLite's do on ``id``, text keys sort bytewise (``COLLATE "C"``)
as SQLite's do, and a span's attributes are its open's updated by its close's.
"""

import re
from typing import Any, Final, Literal

import orjson
import psycopg

from orca.errors import UsageError
from orca.store import _bodies
from orca.store._aggregate import SpanGroup, rank
from orca.store._ledger import _row as ledger_row
from orca.store._pg_schema import ATTRS_TSV, LOGS_TSV, TS_CONFIG
from orca.store._protocol import SpanStat
from orca.store._read import STAT_KEYS
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LedgerRow,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceStatus,
    TraceSummary,
)

Conn = psycopg.Connection[Any]

SPAN_COLS: Final = (
    "trace_id, span_id, parent_id, name, component, start_ns, end_ns, status, attrs_open,"
    " attrs_close, request_body, response_body, request_body_bytes, response_body_bytes,"
    " (SELECT pid FROM processes p WHERE p.id = spans.proc_id) AS pid, synthetic"
)  # named as SpanRow's fields: rows are built by name (span_from)
_LOG_COLS: Final = "ts_ns, level, msg, component, trace_id, span_id, attrs"
_LINK_COLS: Final = "ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, attrs"
_LEDGER_COLS: Final = (
    "id, ts_ns, kind, run, trace_id, span_id, actor, prev, hash, payload_hash, payload,"
    " erased, signature, key_id"
)


def _attrs(text: str | None) -> dict[str, Any]:
    return orjson.loads(text) if text else {}


def span_from(*, attrs_open: str | None, attrs_close: str | None, **cols: Any) -> SpanRow:
    """A span row from its columns by name (psycopg's ``kwargs_row``): open attrs, then close's."""
    attrs = orjson.loads(attrs_open) if attrs_open else {}
    if attrs_close:
        attrs.update(orjson.loads(attrs_close))
    return SpanRow(attrs=attrs, **cols)


def spans(conn: Conn, sql: str, args: Any = ()) -> list[SpanRow]:
    """The spans a query selects (its columns must be :data:`SPAN_COLS`)."""
    from psycopg.rows import kwargs_row

    with conn.cursor(row_factory=kwargs_row(span_from)) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _log(r: dict[str, Any]) -> LogRow:
    return LogRow(
        ts_ns=r["ts_ns"],
        level=r["level"],
        msg=r["msg"],
        component=r["component"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        attrs=_attrs(r["attrs"]),
    )


def _link(r: dict[str, Any]) -> LinkRow:
    return LinkRow(
        ts_ns=r["ts_ns"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        to_trace_id=r["to_trace_id"],
        to_span_id=r["to_span_id"],
        reason=r["reason"],
        attrs=_attrs(r["attrs"]),
    )


def _ledger_row(r: dict[str, Any]) -> LedgerRow:
    return ledger_row(tuple(r[c.strip()] for c in _LEDGER_COLS.split(",")))


def _dicts(conn: Conn, sql: str, args: Any = ()) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def summarise(conn: Conn, trace_id: str) -> TraceSummary | None:
    heads = _dicts(
        conn,
        "SELECT start_ns, conversation_id, pinned FROM traces WHERE trace_id = %s",
        (trace_id,),
    )
    if not heads:
        return None
    head = heads[0]
    [agg] = _dicts(
        conn,
        "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'error') AS errors,"
        " count(*) FILTER (WHERE status = 'unfinished') AS unfinished,"
        " count(*) FILTER (WHERE synthetic AND name = %s) AS crashed, max(end_ns) AS last_end,"
        " count(*) FILTER (WHERE end_ns IS NULL) AS open,"
        " coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,"
        " coalesce(sum(cache_read_tokens), 0) AS cr, coalesce(sum(cache_write_tokens), 0) AS cw,"
        " coalesce(sum(cost), 0.0) AS cost FROM spans WHERE trace_id = %s",
        (CRASH_SPAN_NAME, trace_id),
    )
    roots = _dicts(
        conn,
        "SELECT span_id, name, component, start_ns, end_ns FROM spans"
        " WHERE trace_id = %s AND parent_id IS NULL AND NOT synthetic"
        " ORDER BY start_ns, seq LIMIT 1",
        (trace_id,),
    )
    status: TraceStatus
    if agg["crashed"]:
        status = "crashed"
    elif agg["errors"]:
        status = "error"
    elif agg["unfinished"]:
        status = "unfinished"
    else:
        status = "ok"
    if roots:
        root = roots[0]
        root_id, root_name, component = root["span_id"], root["name"], root["component"]
        start, end = root["start_ns"], root["end_ns"]
    else:
        first = _dicts(
            conn,
            "SELECT name, component FROM spans WHERE trace_id = %s ORDER BY start_ns, seq LIMIT 1",
            (trace_id,),
        )
        root_id, start = None, head["start_ns"]
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
    limit: int | None,
    since_ns: int | None,
    status: str | None,
    conversation: str | None,
    component: str | None = None,
) -> list[TraceSummary]:
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
        f"SELECT {SPAN_COLS} FROM spans WHERE trace_id = %s ORDER BY start_ns, seq",
        (trace_id,),
    )
    logs = [
        _log(r)
        for r in _dicts(
            conn,
            f"SELECT {_LOG_COLS} FROM logs WHERE trace_id = %s ORDER BY ts_ns, id",
            (trace_id,),
        )
    ]
    links = [
        _link(r)
        for r in _dicts(
            conn,
            f"SELECT {_LINK_COLS} FROM links WHERE trace_id = %s OR to_trace_id = %s"
            " ORDER BY ts_ns, id",
            (trace_id, trace_id),
        )
    ]
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
        conn, f"SELECT {SPAN_COLS} FROM spans WHERE span_id = %s ORDER BY seq LIMIT 1", (span_id,)
    )
    return rows[0] if rows else None


def span_logs(conn: Conn, span_id: str) -> list[LogRow]:
    return [
        _log(r)
        for r in _dicts(
            conn,
            f"SELECT {_LOG_COLS} FROM logs WHERE span_id = %s AND trace_id IN"
            " (SELECT trace_id FROM spans WHERE span_id = %s) ORDER BY ts_ns, id",
            (span_id, span_id),
        )
    ]


def span_links(conn: Conn, span_id: str) -> list[LinkRow]:
    return [
        _link(r)
        for r in _dicts(
            conn,
            f"SELECT {_LINK_COLS} FROM links WHERE (span_id = %s AND trace_id IN"
            " (SELECT trace_id FROM spans WHERE span_id = %s)) OR (to_span_id = %s AND"
            " to_trace_id IN (SELECT trace_id FROM spans WHERE span_id = %s))"
            " ORDER BY ts_ns, id",
            (span_id, span_id, span_id, span_id),
        )
    ]


def body(conn: Conn, sha256: str) -> bytes | None:
    rows = _dicts(conn, "SELECT enc, data FROM bodies WHERE sha256 = %s", (sha256,))
    return _bodies.decode(rows[0]["enc"], bytes(rows[0]["data"])) if rows else None


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
    conn: Conn, *, name: str | None, since_ns: int | None, limit: int | None
) -> list[SpanRow]:
    where: list[str] = ["true"]
    args: list[Any] = []
    if name is not None:
        where.append("name = %s")
        args.append(name)
    if since_ns is not None:
        where.append("start_ns >= %s")
        args.append(since_ns)
    sql = f"SELECT {SPAN_COLS} FROM spans WHERE {' AND '.join(where)} ORDER BY start_ns, seq"
    if limit is not None:
        sql += " LIMIT %s"
        args.append(limit)
    return spans(conn, sql, args)


def span_stats(conn: Conn, *, group_by: str, since_ns: int | None) -> list[SpanStat]:
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
    return [SpanStat._make(r) for r in conn.execute(sql, args)]


def span_groups(conn: Conn, *, group_by: str, since_ns: int | None) -> list[SpanGroup]:
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
    conn: Conn, *, run: str | None, trace: str | None, since_ns: int | None, limit: int | None
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


# -- search: GIN indexes over to_tsvector (no copy of the text) -----------------------

_SEARCH: Final[dict[str, str]] = {
    "logs": "SELECT trace_id, span_id, ts_ns AS ts, msg AS head, attrs AS a, NULL AS b"
    f" FROM logs WHERE {LOGS_TSV} @@ q",
    "attrs": "SELECT trace_id, span_id, start_ns AS ts, name AS head, attrs_open AS a,"
    f" attrs_close AS b FROM spans WHERE {ATTRS_TSV} @@ q",
    "bodies": "SELECT trace_id, span_id, first_ns AS ts, enc, data FROM bodies WHERE tsv @@ q",
}
_TS: Final = {"logs": "ts_ns", "attrs": "start_ns", "bodies": "first_ns"}
_TOKEN: Final = re.compile(r"[^\W_]+", re.UNICODE)  # unicode61: letters and digits
SNIPPET_TOKENS: Final = 12


def ts_query(text: str) -> str:
    """The user's words, each a quoted phrase, all needed (no syntax to get wrong)."""
    return " ".join('"' + w.replace('"', " ") + '"' for w in text.split() if w.strip('"'))


def attr_text(*attrs: str | None) -> str:
    """String attributes as "key value" (the open's updated by the close's), as SQLite indexes."""
    merged: dict[str, Any] = {}
    for a in attrs:
        if a:
            merged.update(orjson.loads(a))
    return " ".join(f"{k} {v}" for k, v in merged.items() if isinstance(v, str))


def snippet(text: str, words: list[str], width: int = SNIPPET_TOKENS) -> str:
    """FTS5's ``snippet(…, '[', ']', '…', 12)``: a window of tokens around the matches.

    The window holds the first match and as many following ones as fit,
    centred on them; the text between tokens is kept as written; ``…`` marks
    a cut; at either end of the text the window takes the text up to it.
    """
    tokens = list(_TOKEN.finditer(text))
    wanted = {w.lower() for w in words}
    hits = [i for i, t in enumerate(tokens) if t.group().lower() in wanted]
    if not tokens:
        return text
    first = hits[0] if hits else 0
    last = max((h for h in hits if h < first + width), default=first)
    start = max(0, first - (width - (last - first + 1)) // 2)
    start = max(0, min(start, len(tokens) - width))
    end = min(len(tokens), start + width)
    out = ["…" if start > 0 else text[: tokens[0].start()]]
    for i in range(start, end):
        t = tokens[i]
        out.append(f"[{t.group()}]" if i in hits else t.group())
        if i + 1 < end:
            out.append(text[t.end() : tokens[i + 1].start()])
    out.append("…" if end < len(tokens) else text[tokens[-1].end() :])
    return "".join(out)


def search(
    conn: Conn,
    text: str,
    *,
    where: Literal["attrs", "bodies", "logs"] | None,
    since_ns: int | None,
    limit: int,
) -> list[SearchHit]:
    query = ts_query(text)
    if not query:
        return []
    words = _TOKEN.findall(text)
    places: list[Literal["attrs", "bodies", "logs"]] = (
        [where] if where is not None else ["logs", "attrs", "bodies"]
    )
    hits: list[SearchHit] = []
    for place in places:
        sql = _SEARCH[place].replace(" q", f" websearch_to_tsquery('{TS_CONFIG}', %s)")
        args: list[Any] = [query]
        if since_ns is not None:
            sql += f" AND {_TS[place]} >= %s"
            args.append(since_ns)
        sql += f" ORDER BY {_TS[place]} DESC LIMIT %s"
        args.append(limit)
        for r in _dicts(conn, sql, args):
            if place == "bodies":
                found = _bodies.decode(r["enc"], bytes(r["data"])).decode("utf-8", "replace")
            else:
                found = f"{r['head']} {attr_text(r['a'], r['b'])}"
            cut = snippet(found, words)
            hits.append(SearchHit(r["trace_id"], r["span_id"], r["ts"], place, cut))
    hits.sort(key=lambda h: h.ts_ns, reverse=True)
    return hits[:limit]
