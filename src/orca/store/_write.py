"""Applying a batch: one transaction for rows, bodies, quarantined lines and offsets.

The per-record work is kept to dict lookups and tuple building; each table
gets one ``executemany``. Opens are applied before closes, which is the order
a span's records always have within one writer.
"""

import re
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Final

import orjson

from orca.store import _attrs, _bodies, _ledger
from orca.store._attrs import DECODE, PACK
from orca.store._batch import ApplyResult, Batch, Item
from orca.store._errors import StoreError
from orca.store._ids import Key, key, key_or_none
from orca.store._ingest_rows import (
    LinkInsert,
    LogInsert,
    OpenSpan,
    SourceState,
    SpanInsert,
    TraceSeen,
    new_row,
)
from orca.store._ingest_rows import genai_columns as genai_columns  # (the PostgreSQL write uses it)
from orca.store._rows import CRASH_SPAN_NAME

_SEGMENT: Final = re.compile(r"^(\d+)-(\d+)-\d+\.ndjson$")

# An open, merged in Python with its close when both are in the batch (the usual
# case: one row written once instead of an insert and an update).
_SPAN_INSERT: Final = f"""
INSERT INTO spans ({", ".join(SpanInsert._fields)})
VALUES ({", ".join("?" * len(SpanInsert._fields))})"""
_OPEN_SQL: Final = f"""{_SPAN_INSERT}
ON CONFLICT (trace_id, span_id) DO UPDATE SET
    parent_id = excluded.parent_id, name = excluded.name, component = excluded.component,
    start_ns = excluded.start_ns,
    attrs = CASE WHEN spans.attrs IS NULL THEN excluded.attrs
                 WHEN excluded.attrs IS NULL THEN spans.attrs
                 ELSE {PACK}(json_patch({DECODE}(excluded.attrs), {DECODE}(spans.attrs))) END,
    request_body = excluded.request_body, request_body_bytes = excluded.request_body_bytes,
    proc_id = coalesce(spans.proc_id, excluded.proc_id),
    end_ns = coalesce(excluded.end_ns, spans.end_ns),
    status = CASE WHEN excluded.end_ns IS NULL THEN spans.status ELSE excluded.status END,
    response_body = coalesce(excluded.response_body, spans.response_body),
    response_body_bytes = max(excluded.response_body_bytes, spans.response_body_bytes),
    model = coalesce(spans.model, excluded.model), tool = coalesce(spans.tool, excluded.tool),
    input_tokens = coalesce(excluded.input_tokens, spans.input_tokens),
    output_tokens = coalesce(excluded.output_tokens, spans.output_tokens),
    cache_read_tokens = coalesce(excluded.cache_read_tokens, spans.cache_read_tokens),
    cache_write_tokens = coalesce(excluded.cache_write_tokens, spans.cache_write_tokens),
    cost = coalesce(excluded.cost, spans.cost),
    chg = excluded.chg
"""

# A close with no open seen yet still makes a row (its open may be in a later
# batch, or lost), named '(unknown)' and started at the close; the open then fills
# in name, parent and start.
_CLOSE_SQL: Final = f"""
{_SPAN_INSERT}
ON CONFLICT (trace_id, span_id) DO UPDATE SET
    end_ns = excluded.end_ns, status = excluded.status,
    attrs = CASE WHEN spans.attrs IS NULL THEN excluded.attrs
                 WHEN excluded.attrs IS NULL THEN spans.attrs
                 ELSE {PACK}(json_patch({DECODE}(spans.attrs), {DECODE}(excluded.attrs))) END,
    response_body = excluded.response_body, response_body_bytes = excluded.response_body_bytes,
    model = coalesce(excluded.model, spans.model), tool = coalesce(excluded.tool, spans.tool),
    input_tokens = coalesce(excluded.input_tokens, spans.input_tokens),
    output_tokens = coalesce(excluded.output_tokens, spans.output_tokens),
    cache_read_tokens = coalesce(excluded.cache_read_tokens, spans.cache_read_tokens),
    cache_write_tokens = coalesce(excluded.cache_write_tokens, spans.cache_write_tokens),
    cost = coalesce(excluded.cost, spans.cost),
    chg = excluded.chg
"""

_IMPORTED_CRASH_SQL: Final = f"""
UPDATE spans SET synthetic = 1
WHERE chg = ? AND name = ? AND synthetic = 0 AND component = 'orca.collector'
    AND json_extract({DECODE}(attrs), '$."orca.crash.pid"') IS NOT NULL
"""

_TRACE_SQL: Final = """
INSERT INTO traces (trace_id, start_ns, conversation_id) VALUES (?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    start_ns = min(traces.start_ns, excluded.start_ns),
    conversation_id = coalesce(traces.conversation_id, excluded.conversation_id)
"""


def _source_row(conn: sqlite3.Connection, name: str) -> SourceState:
    """A source's id, committed offset and writer's process id, made on first sight."""
    row = conn.execute("SELECT id, offset, proc_id FROM sources WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return SourceState._make(row)
    proc_id = None
    m = _SEGMENT.match(name)
    if m is not None:
        writer = f"{m.group(1)}-{m.group(2)}"
        conn.execute(
            "INSERT INTO processes (writer, pid) VALUES (?, ?) ON CONFLICT (writer) DO NOTHING",
            (writer, int(m.group(1))),
        )
        proc_id = conn.execute("SELECT id FROM processes WHERE writer = ?", (writer,)).fetchone()[0]
    cur = conn.execute("INSERT INTO sources (name, proc_id) VALUES (?, ?)", (name, proc_id))
    assert cur.lastrowid is not None
    return SourceState(cur.lastrowid, 0, proc_id)


def _proc_record(conn: sqlite3.Connection, proc_id: int | None, rec: dict[str, Any]) -> None:
    if proc_id is None:
        return
    event, ts = rec["event"], rec["ts"]
    if event in ("start", "segment"):
        conn.execute(
            "UPDATE processes SET pstart = coalesce(?, pstart), host = coalesce(?, host),"
            " argv = coalesce(?, argv), started_ns = min(coalesce(started_ns, ?), ?) WHERE id = ?",
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
        conn.execute(
            "UPDATE processes SET heartbeat_ns = max(coalesce(heartbeat_ns, 0), ?),"
            " dropped = max(dropped, ?) WHERE id = ?",
            (ts, rec.get("dropped", 0), proc_id),
        )
    elif event == "exit":
        conn.execute(
            "UPDATE processes SET exited_ns = ?, dropped = max(dropped, ?) WHERE id = ?",
            (ts, rec.get("dropped", 0), proc_id),
        )


def _dumps(attrs: object) -> str | None:
    return orjson.dumps(attrs).decode() if attrs else None


def apply_batch(
    conn: sqlite3.Connection,
    batch: Batch,
    bases: _bodies.Bases | None = None,
    blobs: _bodies.Blobs | None = None,
    blob_above: int = _bodies.BLOB_ABOVE,
    attrs_codec: _attrs.Codec | None = None,
) -> ApplyResult:
    """Write ``batch`` in the caller's open transaction; return what was written.

    With ``blobs``, bodies above ``blob_above`` bytes go to the blob store.
    ``attrs_codec`` packs span attributes (the codec registered on ``conn``;
    without it they are stored as JSON text).
    """
    span_dumps: Callable[[object], str | bytes | None] = _dumps
    if attrs_codec is not None:
        attrs_codec.begin(conn)
        span_dumps = attrs_codec.dumps
    row = conn.execute("SELECT value FROM meta WHERE key = 'batch'").fetchone()
    chg = (row[0] if row else 0) + 1
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('batch', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (chg,),
    )
    sources = {name: _source_row(conn, name) for name in batch.offsets}
    opens: dict[tuple[str, str], OpenSpan] = {}
    closes: list[SpanInsert] = []
    logs: list[LogInsert] = []
    links: list[LinkInsert] = []
    traces: dict[str, TraceSeen] = {}
    bodies = _bodies.BatchBodies(bases or _bodies.Bases(), blobs, blob_above)
    counts: dict[str, int] = {}
    last_ts: dict[int, int] = {}
    skipped = 0
    synthetic: list[tuple[Key, Key]] = []
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
        proc_id = src.proc_id
        ts = rec["ts"]
        if proc_id is not None and ts > last_ts.get(proc_id, 0):
            last_ts[proc_id] = ts
        if kind == "span-open":
            if "synthetic" in rec:  # a crash span copied by `orca migrate` (never in a journal)
                synthetic.append((key(rec["trace"]), key(rec["span"])))
            attrs = rec.get("attrs")
            sha, size = bodies.add(rec) if "body" in rec else (None, 0)
            trace = rec["trace"]
            opens[(trace, rec["span"])] = OpenSpan(rec, sha, size, proc_id)
            _note_trace(traces, trace, ts, attrs)
        elif kind == "span-close":
            attrs = rec.get("attrs")
            sha, size = bodies.add(rec) if "body" in rec else (None, 0)
            trace = rec["trace"]
            opened = opens.get((trace, rec["span"]))
            if opened is not None and opened.end_ns is None:
                opened.end_ns, opened.status, opened.close_attrs = ts, rec["status"], attrs
                opened.response_body, opened.response_body_bytes = sha, size
                continue
            closes.append(
                new_row(
                    SpanInsert,
                    (
                        key(trace),
                        key(rec["span"]),
                        None,
                        "(unknown)",
                        rec["component"],
                        ts,
                        span_dumps(attrs),
                        None,
                        0,
                        proc_id,
                        ts,
                        rec["status"],
                        sha,
                        size,
                        *genai_columns(attrs),
                        chg,
                    ),
                )
            )
            _note_trace(traces, trace, ts, attrs)
        elif kind == "log":
            logs.append(
                new_row(
                    LogInsert,
                    (
                        ts,
                        rec["level"],
                        rec["msg"],
                        rec["component"],
                        key_or_none(rec.get("trace")),
                        key_or_none(rec.get("span")),
                        _dumps(rec.get("attrs")),
                    ),
                )
            )
        elif kind == "link":
            links.append(
                new_row(
                    LinkInsert,
                    (
                        ts,
                        key(rec["trace"]),
                        key(rec["span"]),
                        key(rec["to_trace"]),
                        key(rec["to_span"]),
                        rec.get("reason"),
                        _dumps(rec.get("attrs")),
                    ),
                )
            )
        elif kind == "proc":
            _proc_record(conn, proc_id, rec)
    bodies.write(conn, traces)
    conn.executemany(_OPEN_SQL, [o.row(chg, span_dumps) for o in opens.values()])
    if synthetic:
        conn.executemany(
            "UPDATE spans SET synthetic = 1 WHERE trace_id = ? AND span_id = ?", synthetic
        )
    conn.executemany(_CLOSE_SQL, closes)
    if any(o.record["name"] == CRASH_SPAN_NAME for o in opens.values()):
        # A crash marker another ORCA's collector wrote, arriving by OTLP import: it
        # stays a crash marker here (no local process wrote it).
        conn.execute(_IMPORTED_CRASH_SQL, (chg, CRASH_SPAN_NAME))
    conn.executemany(
        _TRACE_SQL, [(key(t), v.start_ns, v.conversation_id) for t, v in traces.items()]
    )
    conn.executemany(
        "INSERT INTO logs (ts_ns, level, msg, component, trace_id, span_id, attrs)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        logs,
    )
    conn.executemany(
        "INSERT INTO links (ts_ns, trace_id, span_id, to_trace_id, to_span_id, reason, attrs)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        links,
    )
    conn.executemany(
        "UPDATE processes SET last_ns = max(coalesce(last_ns, 0), ?) WHERE id = ?",
        [(ts, pid) for pid, ts in last_ts.items()],
    )
    quarantined = _quarantine(conn, batch, sources)
    mirrored, ledger_skipped = (
        _ledger.write(conn, batch.ledger, {n: s.offset for n, s in sources.items()})
        if batch.ledger
        else ({}, 0)
    )
    for name, n in mirrored.items():
        counts[name] = counts.get(name, 0) + n
    for name, offset in batch.offsets.items():
        src = sources[name]
        new = batch.resets.get(name, max(offset, src.offset))
        conn.execute(
            "UPDATE sources SET offset = ?, records = records + ?, quarantined = quarantined + ?"
            " WHERE id = ?",
            (new, counts.get(name, 0), quarantined.get(name, 0), src.id),
        )
    ledger = sum(mirrored.values())
    applied = sum(counts.values()) - ledger
    return ApplyResult(applied, skipped + ledger_skipped, sum(quarantined.values()), chg, ledger)


def _note_trace(
    traces: dict[str, TraceSeen], trace: str, ts: int, attrs: dict[str, Any] | None
) -> None:
    conv = attrs.get("gen_ai.conversation.id") if attrs else None
    conv = conv if type(conv) is str else None
    seen = traces.get(trace)
    if seen is None:
        traces[trace] = TraceSeen(ts, conv)
    else:
        if ts < seen.start_ns:
            seen.start_ns = ts
        if seen.conversation_id is None:
            seen.conversation_id = conv


def _quarantine(
    conn: sqlite3.Connection, batch: Batch, sources: dict[str, SourceState]
) -> dict[str, int]:
    import time

    now = time.time_ns()
    counts: dict[str, int] = {}
    rows = []
    for q in batch.quarantined:
        if q.offset < sources[q.source].offset:
            continue
        counts[q.source] = counts.get(q.source, 0) + 1
        rows.append((q.source, q.offset, q.length, q.reason, q.preview[:200], now))
    conn.executemany(
        "INSERT OR IGNORE INTO quarantine (source, offset, length, reason, preview, ts_ns)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return counts


def items_from(records: Iterable[dict[str, Any]], source: str) -> Batch:
    """A batch of ``records`` as if read one per line from ``source`` (tests, imports)."""
    batch = Batch()
    for i, rec in enumerate(records):
        batch.items.append(Item(rec, source, i))
    batch.offsets[source] = len(batch.items)
    return batch
