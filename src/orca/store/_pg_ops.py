"""PostgreSQL chores: crash attribution, retention, status figures.

Retention keeps SQLite's semantics (whole traces older than ``max_age`` go,
pinned ones stay, their spans are first folded into daily ``rollups``; the
oldest bodies go over the byte cap) and uses the day partitions: a
partition older than the cutoff day whose traces are all doomed is dropped
whole (one catalog change instead of a million row deletions).
"""

import time
from collections.abc import Callable
from typing import Any, Final

import orjson
import psycopg

from orca.store._crash import CRASH_COMPONENT, crash_span_id
from orca.store._pg_read import SPAN_COLS, SPANS, _dicts, spans
from orca.store._pg_schema import DAY_NS
from orca.store._retention import PruneResult, RetentionPolicy, Rollup, _bucket, _day, _p95
from orca.store._rows import CRASH_SPAN_NAME, SpanRow
from orca.store._status import ProcessRow, QuarantineRow, SourceRow, StoreTotals

Conn = psycopg.Connection[Any]
_PROC_COLS: Final = (
    "writer, pid, pstart, host, started_ns, last_ns, heartbeat_ns, exited_ns, crashed_ns, dropped"
)


def attribute(conn: Conn, origin: str, writer: str, detected_ns: int) -> list[SpanRow]:
    """One synthetic crash span per trace ``writer`` (of ``origin``) left spans open in."""
    procs = _dicts(
        conn,
        "SELECT id, pid, last_ns, exited_ns, crashed_ns FROM processes"
        " WHERE origin = %s AND writer = %s FOR UPDATE",
        (origin, writer),
    )
    if not procs or procs[0]["exited_ns"] is not None or procs[0]["crashed_ns"] is not None:
        return []
    proc = procs[0]
    last_ns = proc["last_ns"] or detected_ns
    conn.execute("UPDATE processes SET crashed_ns = %s WHERE id = %s", (detected_ns, proc["id"]))
    traces = _dicts(
        conn,
        "SELECT DISTINCT s.trace_id, t.day FROM spans s JOIN traces t USING (trace_id)"
        " WHERE s.proc_id = %s AND s.end_ns IS NULL ORDER BY s.trace_id",
        (proc["id"],),
    )
    made: list[SpanRow] = []
    for t in traces:
        trace_id = t["trace_id"]
        [last] = _dicts(
            conn,
            "SELECT span_id, name FROM spans WHERE trace_id = %s AND proc_id = %s"
            " AND NOT synthetic ORDER BY start_ns DESC, seq DESC LIMIT 1",
            (trace_id, proc["id"]),
        )
        roots = _dicts(
            conn,
            "SELECT span_id FROM spans WHERE trace_id = %s AND parent_id IS NULL"
            " AND NOT synthetic ORDER BY start_ns, seq LIMIT 1",
            (trace_id,),
        )
        span_id = crash_span_id(writer, trace_id)
        message = (
            f"process {proc['pid']} exited unexpectedly after span {last['name']}"
            f" ({last['span_id']})"
        )
        attrs = {
            "orca.crash.pid": proc["pid"],
            "orca.crash.writer": writer,
            "orca.crash.after_span": last["span_id"],
            "orca.crash.after_name": last["name"],
            "orca.crash.detected_ns": detected_ns,
            "error.type": "ProcessCrashed",
            "exception.message": message,
        }
        conn.execute(
            "INSERT INTO spans (day, trace_id, span_id, parent_id, name, component, start_ns,"
            " end_ns, status, attrs_open, proc_id, synthetic)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'error', %s, %s, true)"
            " ON CONFLICT DO NOTHING",
            (
                t["day"],
                trace_id,
                span_id,
                roots[0]["span_id"] if roots else None,
                CRASH_SPAN_NAME,
                CRASH_COMPONENT,
                last_ns,
                last_ns,
                orjson.dumps(attrs).decode(),
                proc["id"],
            ),
        )
        made += spans(
            conn,
            f"SELECT {SPAN_COLS} FROM {SPANS} WHERE trace_id = %s AND span_id = %s",
            (trace_id, span_id),
        )
    return made


def retract(conn: Conn, origin: str, writer: str) -> int:
    """Withdraw a crash verdict (the writer spoke again): its crash spans go, crashed_ns clears."""
    row = conn.execute(
        "UPDATE processes SET crashed_ns = NULL WHERE origin = %s AND writer = %s RETURNING id",
        (origin, writer),
    ).fetchone()
    if row is None:
        return 0
    return conn.execute(
        "DELETE FROM spans WHERE proc_id = %s AND synthetic AND name = %s",
        (row[0], CRASH_SPAN_NAME),
    ).rowcount


# -- retention ----------------------------------------------------------------------


def _roll_up(conn: Conn) -> int:
    """Fold the doomed traces' spans into ``rollups`` (SQLite's buckets and p95)."""
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in _dicts(
        conn,
        "SELECT name, coalesce(model, '') AS model, component, start_ns, end_ns, status,"
        " coalesce(input_tokens, 0) AS i, coalesce(output_tokens, 0) AS o,"
        " coalesce(cache_read_tokens, 0) AS cr, coalesce(cache_write_tokens, 0) AS cw,"
        " coalesce(cost, 0.0) AS cost FROM spans WHERE trace_id IN (SELECT trace_id FROM doomed)",
    ):
        key = (_day(r["start_ns"]), r["name"], r["model"], r["component"])
        g = groups.setdefault(
            key,
            {"n": 0, "err": 0, "dur": 0, "hist": {}, "i": 0, "o": 0, "cr": 0, "cw": 0, "cost": 0.0},
        )
        g["n"] += 1
        g["err"] += r["status"] == "error"
        if r["end_ns"] is not None:
            d = r["end_ns"] - r["start_ns"]
            g["dur"] += d
            b = str(_bucket(d))
            g["hist"][b] = g["hist"].get(b, 0) + 1
        for col in ("i", "o", "cr", "cw", "cost"):
            g[col] += r[col]
    for key, g in groups.items():
        old = _dicts(
            conn,
            "SELECT span_count, error_count, duration_sum_ns, hist, input_tokens, output_tokens,"
            " cache_read_tokens, cache_write_tokens, cost FROM rollups"
            " WHERE day = %s AND name = %s AND model = %s AND component = %s",
            key,
        )
        if old:
            o = old[0]
            for b, n in orjson.loads(o["hist"]).items():
                g["hist"][b] = g["hist"].get(b, 0) + n
            g["n"] += o["span_count"]
            g["err"] += o["error_count"]
            g["dur"] += o["duration_sum_ns"]
            g["i"] += o["input_tokens"]
            g["o"] += o["output_tokens"]
            g["cr"] += o["cache_read_tokens"]
            g["cw"] += o["cache_write_tokens"]
            g["cost"] += o["cost"]
        conn.execute(
            "INSERT INTO rollups (day, name, model, component, span_count, error_count,"
            " duration_sum_ns, duration_p95_ns, hist, input_tokens, output_tokens,"
            " cache_read_tokens, cache_write_tokens, cost)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (day, name, model, component) DO UPDATE SET"
            " span_count = excluded.span_count, error_count = excluded.error_count,"
            " duration_sum_ns = excluded.duration_sum_ns,"
            " duration_p95_ns = excluded.duration_p95_ns, hist = excluded.hist,"
            " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
            " cache_read_tokens = excluded.cache_read_tokens,"
            " cache_write_tokens = excluded.cache_write_tokens, cost = excluded.cost",
            (
                *key,
                g["n"],
                g["err"],
                g["dur"],
                _p95(g["hist"]),
                orjson.dumps(g["hist"]).decode(),
                g["i"],
                g["o"],
                g["cr"],
                g["cw"],
                g["cost"],
            ),
        )
    return len(groups)


def _partitions(conn: Conn) -> list[int]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'spans'::regclass"
    ).fetchall()
    return sorted(int(r[0].removeprefix("spans_d")) for r in rows)


def prune(
    conn: Conn,
    policy: RetentionPolicy,
    *,
    now_ns: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> PruneResult:
    """Apply ``policy`` inside the caller's transaction (see the module docstring)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    report = progress or (lambda stage, done, total: None)
    out: dict[str, int] = {}
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS doomed (trace_id TEXT PRIMARY KEY) ON COMMIT DROP"
    )
    if policy.max_age is not None:
        cutoff = now_ns - int(policy.max_age.total_seconds() * 1e9)
        conn.execute(
            "INSERT INTO doomed SELECT trace_id FROM traces WHERE start_ns < %s AND NOT pinned",
            (cutoff,),
        )
        report("roll up", 1, 4)
        out["rollup_rows"] = _roll_up(conn)
        report("delete traces", 2, 4)
        cutoff_day = cutoff // DAY_NS
        spans = 0
        for day in _partitions(conn):
            if day >= cutoff_day:
                continue
            kept = conn.execute(
                f"SELECT count(*) FROM spans_d{day} s JOIN traces t USING (trace_id)"
                " WHERE t.pinned",
            ).fetchone()
            if kept is not None and kept[0] == 0:
                count = conn.execute(f"SELECT count(*) FROM spans_d{day}").fetchone()
                spans += count[0] if count else 0
                conn.execute(f"DROP TABLE spans_d{day}")
        spans += conn.execute(
            "DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM doomed)"
        ).rowcount
        out["spans"] = spans
        doomed = "IN (SELECT trace_id FROM doomed)"
        out["logs"] = conn.execute(f"DELETE FROM logs WHERE trace_id {doomed}").rowcount
        out["logs"] += conn.execute(
            "DELETE FROM logs WHERE trace_id IS NULL AND ts_ns < %s", (cutoff,)
        ).rowcount
        out["links"] = conn.execute(f"DELETE FROM links WHERE trace_id {doomed}").rowcount
        out["ledger"] = conn.execute(f"DELETE FROM ledger WHERE trace_id {doomed}").rowcount
        out["ledger"] += conn.execute(
            "DELETE FROM ledger WHERE trace_id IS NULL AND ts_ns < %s", (cutoff,)
        ).rowcount
        out["traces"] = conn.execute(f"DELETE FROM traces WHERE trace_id {doomed}").rowcount
        out["quarantined"] = conn.execute(
            "DELETE FROM quarantine WHERE ts_ns < %s", (cutoff,)
        ).rowcount
        conn.execute(
            "DELETE FROM sources WHERE deleted_ns IS NOT NULL AND deleted_ns < %s", (cutoff,)
        )
        out["processes"] = conn.execute(
            "DELETE FROM processes p WHERE coalesce(last_ns, 0) < %s"
            " AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.proc_id = p.id)"
            " AND NOT EXISTS (SELECT 1 FROM spans s WHERE s.proc_id = p.id)",
            (cutoff,),
        ).rowcount
    report("collect bodies", 3, 4)
    gone = conn.execute(
        "DELETE FROM bodies b WHERE NOT EXISTS (SELECT 1 FROM spans s"
        " WHERE s.request_body = b.sha256 OR s.response_body = b.sha256) RETURNING stored"
    ).fetchall()
    out["bodies_collected"] = len(gone)
    out["body_bytes_freed"] = sum(r[0] for r in gone)
    if policy.max_total_body_bytes is not None:
        evicted = _evict(conn, policy.max_total_body_bytes)
        out["bodies_evicted"] = len(evicted)
        out["body_bytes_freed"] += sum(evicted)
    conn.execute("DELETE FROM doomed")
    report("done", 4, 4)
    return PruneResult(**out)


def _evict(conn: Conn, cap: int) -> list[int]:
    """Delete the oldest bodies not of pinned traces until at most ``cap`` bytes are stored."""
    row = conn.execute("SELECT coalesce(sum(stored), 0) FROM bodies").fetchone()
    total = int(row[0]) if row else 0
    if total <= cap:
        return []
    gone = conn.execute(
        "WITH pinned AS (SELECT request_body AS sha FROM spans s JOIN traces t USING (trace_id)"
        "  WHERE t.pinned AND request_body IS NOT NULL"
        "  UNION SELECT response_body FROM spans s JOIN traces t USING (trace_id)"
        "  WHERE t.pinned AND response_body IS NOT NULL),"
        " ordered AS (SELECT sha256, stored, sum(stored) OVER (ORDER BY seq) AS upto"
        "  FROM bodies WHERE sha256 NOT IN (SELECT sha FROM pinned))"
        " DELETE FROM bodies WHERE sha256 IN"
        " (SELECT sha256 FROM ordered WHERE upto - stored < %s) RETURNING stored",
        (total - cap,),
    ).fetchall()
    return [r[0] for r in gone]


def read_rollups(conn: Conn, *, since_day: str | None = None) -> list[Rollup]:
    sql = (
        "SELECT day, name, model, component, span_count, error_count, duration_sum_ns,"
        " duration_p95_ns, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
        " cost FROM rollups"
    )
    args: tuple[str, ...] = ()
    if since_day is not None:
        sql += " WHERE day >= %s"
        args = (since_day,)
    sql += ' ORDER BY day, name COLLATE "C", model COLLATE "C", component COLLATE "C"'
    return [Rollup(**r) for r in _dicts(conn, sql, args)]


# -- status ---------------------------------------------------------------------------


def sources(conn: Conn, origin: str) -> list[SourceRow]:
    rows = _dicts(
        conn,
        'SELECT s.name, p.writer, p.pid, s."offset", s.records, s.quarantined, s.deleted_ns'
        " FROM sources s LEFT JOIN processes p ON p.id = s.proc_id WHERE s.origin = %s"
        " ORDER BY s.id",
        (origin,),
    )
    return [SourceRow(**r) for r in rows]


def processes(conn: Conn, origin: str) -> list[ProcessRow]:
    rows = _dicts(
        conn, f"SELECT {_PROC_COLS} FROM processes WHERE origin = %s ORDER BY id", (origin,)
    )
    return [ProcessRow(**r) for r in rows]


def quarantine(conn: Conn, origin: str, limit: int | None = None) -> list[QuarantineRow]:
    sql = (
        "SELECT s.name AS source, q.off AS offset, q.length, q.reason, q.preview, q.ts_ns"
        " FROM quarantine q JOIN sources s ON s.id = q.source_id WHERE s.origin = %s"
        " ORDER BY q.id"
    )
    args: list[Any] = [origin]
    if limit is not None:
        sql += " LIMIT %s"
        args.append(limit)
    return [QuarantineRow(**{**r, "preview": bytes(r["preview"])}) for r in _dicts(conn, sql, args)]


def totals(conn: Conn) -> StoreTotals:
    def count(table: str) -> int:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    [b] = _dicts(
        conn,
        "SELECT count(*) AS n, coalesce(sum(size), 0) AS size,"
        " coalesce(sum(stored), 0) AS stored FROM bodies",
    )
    [refs] = _dicts(
        conn,
        "SELECT coalesce(sum(b.size), 0) AS n FROM bodies b JOIN ("
        " SELECT request_body AS sha FROM spans WHERE request_body IS NOT NULL"
        " UNION ALL SELECT response_body FROM spans WHERE response_body IS NOT NULL"
        ") r ON r.sha = b.sha256",
    )
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return StoreTotals(
        file_bytes=int(size[0]) if size else 0,
        spans=count("spans"),
        logs=count("logs"),
        links=count("links"),
        traces=count("traces"),
        quarantined=count("quarantine"),
        bodies=int(b["n"]),
        body_bytes=int(b["size"]),
        body_stored_bytes=int(b["stored"]),
        body_referenced_bytes=int(refs["n"]),
    )
