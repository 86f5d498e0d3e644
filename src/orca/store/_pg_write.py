"""Applying a batch to PostgreSQL: COPY into staging tables, then set-based inserts.

One transaction per batch, as in SQLite: rows, bodies, quarantined lines and
the origin's new offsets commit together. Each table's rows are streamed
with ``COPY`` into a temporary staging table (dropped at commit) and moved
with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``: a record applied twice
(a batch retried after a lost connection, two collectors racing on a shared
body) is written once. Spans merge an open and its close: in Python when both
are in the batch, else an ``UPDATE`` of the row an earlier batch wrote.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import orjson
import psycopg

from orca.store import _pg_bodies
from orca.store._batch import ApplyResult, Batch
from orca.store._bodies import Blobs
from orca.store._errors import StoreError
from orca.store._pg_schema import day_of
from orca.store._pg_spans import SpanIn, copy_rows, dumps
from orca.store._pg_spans import write as write_spans

_SEGMENT: Final = re.compile(r"^(\d+)-(\d+)-\d+\.ndjson$")


class SourceState(NamedTuple):
    id: int
    offset: int
    proc_id: int | None


_RECORD_TABLES: Final = {
    "logs": "ts_ns BIGINT, level TEXT, msg TEXT, component TEXT, trace_id TEXT, span_id TEXT,"
    " attrs TEXT",
    "links": "ts_ns BIGINT, trace_id TEXT, span_id TEXT, to_trace_id TEXT, to_span_id TEXT,"
    " reason TEXT, attrs TEXT",
}


class LogIn(NamedTuple):
    source_id: int
    off: int
    ts_ns: int
    level: str
    msg: str
    component: str
    trace_id: str | None
    span_id: str | None
    attrs: str | None


class LinkIn(NamedTuple):
    source_id: int
    off: int
    ts_ns: int
    trace_id: str
    span_id: str
    to_trace_id: str
    to_span_id: str
    reason: str | None
    attrs: str | None


@dataclass(slots=True)
class TraceIn:
    start_ns: int
    conversation_id: str | None


def _sources(cur: psycopg.Cursor[Any], origin: str, names: list[str]) -> dict[str, SourceState]:
    """Each named source of ``origin`` (created on first sight), locked for this batch."""
    for name in names:
        m = _SEGMENT.match(name)
        if m is not None:
            cur.execute(
                "INSERT INTO processes (origin, writer, pid) VALUES (%s, %s, %s)"
                " ON CONFLICT (origin, writer) DO NOTHING",
                (origin, f"{m.group(1)}-{m.group(2)}", int(m.group(1))),
            )
    cur.execute(
        "INSERT INTO sources (origin, name, proc_id)"
        " SELECT %s, n, (SELECT id FROM processes p WHERE p.origin = %s AND p.writer ="
        "   substring(n from '^([0-9]+-[0-9]+)-[0-9]+\\.ndjson$'))"
        " FROM unnest(%s::text[]) AS n ON CONFLICT (origin, name) DO NOTHING",
        (origin, origin, names),
    )
    cur.execute(
        'SELECT name, id, "offset", proc_id FROM sources WHERE origin = %s AND name = ANY(%s)'
        " ORDER BY id FOR UPDATE",
        (origin, names),
    )
    return {r[0]: SourceState(r[1], r[2], r[3]) for r in cur.fetchall()}


def _proc_record(cur: psycopg.Cursor[Any], proc_id: int | None, rec: dict[str, Any]) -> None:
    if proc_id is None:
        return
    event, ts = rec["event"], rec["ts"]
    if event in ("start", "segment"):
        cur.execute(
            "UPDATE processes SET pstart = coalesce(%s, pstart), host = coalesce(%s, host),"
            " argv = coalesce(%s, argv), started_ns = least(coalesce(started_ns, %s), %s)"
            " WHERE id = %s",
            (
                rec.get("pstart"),
                rec.get("host"),
                orjson.dumps(rec["argv"]).decode() if "argv" in rec else None,
                ts,
                ts,
                proc_id,
            ),
        )
    elif event == "heartbeat":
        cur.execute(
            "UPDATE processes SET heartbeat_ns = greatest(coalesce(heartbeat_ns, 0), %s),"
            " dropped = greatest(dropped, %s) WHERE id = %s",
            (ts, rec.get("dropped", 0), proc_id),
        )
    elif event == "exit":
        cur.execute(
            "UPDATE processes SET exited_ns = %s, dropped = greatest(dropped, %s) WHERE id = %s",
            (ts, rec.get("dropped", 0), proc_id),
        )


def _trace_days(cur: psycopg.Cursor[Any], traces: dict[str, TraceIn]) -> dict[str, int]:
    """The partition day of each trace: the stored one, else the day of its first record."""
    cur.execute("SELECT trace_id, day FROM traces WHERE trace_id = ANY(%s)", (list(traces),))
    days = {r[0]: r[1] for r in cur.fetchall()}
    for trace_id, t in traces.items():
        days.setdefault(trace_id, day_of(t.start_ns))
    return days


def collect(batch: Batch) -> set[int]:
    """The partition days a batch may need (its span records' days), before its transaction."""
    return {
        day_of(item.record["ts"])
        for item in batch.items
        if item.record["kind"] in ("span-open", "span-close")
    }


def apply_batch(
    conn: psycopg.Connection[Any],
    batch: Batch,
    origin: str,
    ensure_days: Callable[[set[int]], None],
    blobs: Blobs | None = None,
) -> ApplyResult:
    """Write ``batch`` for ``origin`` in the caller's open transaction; what was written."""
    cur = conn.cursor()
    sources = _sources(cur, origin, sorted(batch.offsets))
    spans: dict[tuple[str, str], SpanIn] = {}
    logs: list[LogIn] = []
    links: list[LinkIn] = []
    traces: dict[str, TraceIn] = {}
    bodies = _pg_bodies.PendingBodies()
    counts: dict[str, int] = {}
    last_ts: dict[int, int] = {}
    skipped = 0
    for item in batch.items:
        src = sources.get(item.source)
        if src is None:
            raise StoreError(
                f"batch has a record from {item.source!r} but no offset for it; "
                "give every source's offset in Batch.offsets"
            )
        if item.offset < src.offset:
            skipped += 1
            continue
        counts[item.source] = counts.get(item.source, 0) + 1
        rec = item.record
        kind = rec["kind"]
        ts = rec["ts"]
        if src.proc_id is not None and ts > last_ts.get(src.proc_id, 0):
            last_ts[src.proc_id] = ts
        if kind == "span-open" or kind == "span-close":
            key = (rec["trace"], rec["span"])
            sha, size = bodies.add(rec) if "body" in rec else (None, 0)
            span = spans.get(key)
            if span is None:
                span = spans[key] = SpanIn(key[0], key[1], src.proc_id, rec["component"], ts)
            attrs = rec.get("attrs")
            if kind == "span-open":
                span.synthetic = "synthetic" in rec  # a crash span copied by `orca migrate`
                span.has_open, span.parent_id, span.name = True, rec.get("parent"), rec["name"]
                span.component, span.start_ns, span.attrs_open = rec["component"], ts, attrs
                span.request_body, span.request_body_bytes = sha, size
            else:
                span.has_close, span.end_ns, span.status = True, ts, rec["status"]
                span.attrs_close, span.response_body, span.response_body_bytes = attrs, sha, size
            conv = attrs.get("gen_ai.conversation.id") if attrs else None
            seen = traces.get(key[0])
            if seen is None:
                traces[key[0]] = TraceIn(ts, conv if type(conv) is str else None)
            else:
                seen.start_ns = min(seen.start_ns, ts)
                if seen.conversation_id is None and type(conv) is str:
                    seen.conversation_id = conv
        elif kind == "log":
            logs.append(
                LogIn(
                    src.id,
                    item.offset,
                    ts,
                    rec["level"],
                    rec["msg"],
                    rec["component"],
                    rec.get("trace"),
                    rec.get("span"),
                    dumps(rec.get("attrs")),
                )
            )
        elif kind == "link":
            links.append(
                LinkIn(
                    src.id,
                    item.offset,
                    ts,
                    rec["trace"],
                    rec["span"],
                    rec["to_trace"],
                    rec["to_span"],
                    rec.get("reason"),
                    dumps(rec.get("attrs")),
                )
            )
        elif kind == "proc":
            _proc_record(cur, src.proc_id, rec)
    if traces:
        days = _trace_days(cur, traces)
        ensure_days(set(days.values()))
        _write_traces(cur, traces, days)
        write_spans(cur, spans, days)
    _pg_bodies.write(cur, bodies, blobs)
    for table, rows in (("logs", logs), ("links", links)):
        if rows:
            _write_records(cur, table, rows)
    if last_ts:
        cur.executemany(
            "UPDATE processes SET last_ns = greatest(coalesce(last_ns, 0), %s) WHERE id = %s",
            [(ts, pid) for pid, ts in last_ts.items()],
        )
    quarantined = _quarantine(cur, batch, sources)
    mirrored, ledger_skipped = _ledger(cur, batch, origin, sources) if batch.ledger else ({}, 0)
    for name, n in mirrored.items():
        counts[name] = counts.get(name, 0) + n
    cur.executemany(
        'UPDATE sources SET "offset" = %s, records = records + %s,'
        " quarantined = quarantined + %s WHERE id = %s",
        [
            (
                batch.resets.get(name, max(offset, sources[name].offset)),
                counts.get(name, 0),
                quarantined.get(name, 0),
                sources[name].id,
            )
            for name, offset in batch.offsets.items()
        ],
    )
    ledger = sum(mirrored.values())
    return ApplyResult(
        applied=sum(counts.values()) - ledger,
        skipped=skipped + ledger_skipped,
        quarantined=sum(quarantined.values()),
        batch=0,
        ledger=ledger,
    )


def _write_traces(
    cur: psycopg.Cursor[Any], traces: dict[str, TraceIn], days: dict[str, int]
) -> None:
    ids = sorted(traces)  # one order for every writer: no deadlock between hosts
    cur.execute(
        "INSERT INTO traces (trace_id, start_ns, day, conversation_id)"
        " SELECT * FROM unnest(%s::text[], %s::bigint[], %s::int[], %s::text[])"
        " ON CONFLICT (trace_id) DO UPDATE SET"
        " start_ns = least(traces.start_ns, excluded.start_ns),"
        " conversation_id = coalesce(traces.conversation_id, excluded.conversation_id)",
        (
            ids,
            [traces[t].start_ns for t in ids],
            [days[t] for t in ids],
            [traces[t].conversation_id for t in ids],
        ),
    )


def _write_records(cur: psycopg.Cursor[Any], table: str, rows: list[Any]) -> None:
    cols = _RECORD_TABLES[table]
    cur.execute(
        f"CREATE TEMP TABLE {table}_in (source_id BIGINT, off BIGINT, {cols}) ON COMMIT DROP"
    )
    names = ", ".join(rows[0]._fields)
    copy_rows(cur, f"{table}_in", names, rows)
    cur.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {table}_in"
        " ORDER BY source_id, off ON CONFLICT (source_id, off) DO NOTHING"
    )


def _quarantine(
    cur: psycopg.Cursor[Any], batch: Batch, sources: dict[str, SourceState]
) -> dict[str, int]:
    now = time.time_ns()
    counts: dict[str, int] = {}
    rows = []
    for q in batch.quarantined:
        src = sources[q.source]
        if q.offset < src.offset:
            continue
        counts[q.source] = counts.get(q.source, 0) + 1
        rows.append((src.id, q.offset, q.length, q.reason, q.preview[:200], now))
    if rows:
        cur.executemany(
            "INSERT INTO quarantine (source_id, off, length, reason, preview, ts_ns)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (source_id, off) DO NOTHING",
            rows,
        )
    return counts


def _ledger(
    cur: psycopg.Cursor[Any], batch: Batch, origin: str, sources: dict[str, SourceState]
) -> tuple[dict[str, int], int]:
    """Mirror the batch's ledger entries (keyed by origin and entry id); (per source, skipped)."""
    from orca.store._ledger import _payload

    mirrored: dict[str, int] = {}
    skipped = 0
    for item in batch.ledger:
        if item.offset < sources[item.source].offset:
            skipped += 1
            continue
        r = item.row
        cur.execute(
            "INSERT INTO ledger (origin, id, ts_ns, kind, run, trace_id, span_id, actor, prev,"
            " hash, payload_hash, payload, erased, signature, key_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (origin, id) DO NOTHING",
            (
                origin,
                r.id,
                r.ts_ns,
                r.kind,
                r.run,
                r.trace_id,
                r.span_id,
                r.actor,
                r.prev,
                r.hash,
                r.payload_hash,
                _payload(r),
                r.erased,
                r.signature,
                r.key_id,
            ),
        )
        if cur.rowcount == 0:
            skipped += 1
            continue
        mirrored[item.source] = mirrored.get(item.source, 0) + 1
        if r.trace_id is not None:
            cur.execute(
                "INSERT INTO traces (trace_id, start_ns, day) VALUES (%s, %s, %s)"
                " ON CONFLICT (trace_id) DO UPDATE SET"
                " start_ns = least(traces.start_ns, excluded.start_ns)",
                (r.trace_id, r.ts_ns, day_of(r.ts_ns)),
            )
    return mirrored, skipped
