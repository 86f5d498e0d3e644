"""Crash attribution: what the store writes when a writer died without saying goodbye.

The collector decides *that* a writer is dead (pid and start time, or a stale
heartbeat); this module writes the consequence: in every trace where the
writer left spans open, one synthetic ``process.lifecycle`` span with status
error, naming the last span that writer opened there. Its id is derived from
the writer and the trace, so attributing the same crash twice writes nothing new.
When a writer declared dead turns out alive (its records arrive after the
verdict), :func:`retract` withdraws the verdict and its spans.
"""

import hashlib
import sqlite3

import orjson

from orca.store._ids import key, text
from orca.store._read import SPAN_COLS, span_row
from orca.store._rows import CRASH_SPAN_NAME, SpanRow

CRASH_COMPONENT = "orca.collector"


def crash_span_id(writer: str, trace_id: str) -> str:
    """The synthetic crash span's id, derived so attributing one crash twice adds nothing."""
    digest = hashlib.sha256(f"{writer}/{trace_id}".encode()).hexdigest()[:16]
    return digest if digest != "0" * 16 else "0" * 15 + "1"


def attribute(conn: sqlite3.Connection, writer: str, detected_ns: int) -> list[SpanRow]:
    proc = conn.execute(
        "SELECT id, pid, last_ns, exited_ns, crashed_ns FROM processes WHERE writer = ?",
        (writer,),
    ).fetchone()
    if proc is None:
        return []
    proc_id, pid, last_ns, exited_ns, crashed_ns = proc
    if exited_ns is not None or crashed_ns is not None:
        return []
    last_ns = last_ns or detected_ns
    conn.execute("UPDATE processes SET crashed_ns = ? WHERE id = ?", (detected_ns, proc_id))
    # A new batch number, so the search catch-up sees the synthetic spans.
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('batch', 1)"
        " ON CONFLICT (key) DO UPDATE SET value = value + 1"
    )
    traces = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT trace_id FROM spans WHERE proc_id = ? AND end_ns IS NULL", (proc_id,)
        )
    ]
    made: list[SpanRow] = []
    for trace in traces:  # as stored (see _ids)
        trace_id = text(trace)
        last = conn.execute(
            "SELECT span_id, name FROM spans WHERE trace_id = ? AND proc_id = ? AND synthetic = 0"
            " ORDER BY start_ns DESC, id DESC LIMIT 1",
            (trace, proc_id),
        ).fetchone()
        root = conn.execute(
            "SELECT span_id FROM spans WHERE trace_id = ? AND parent_id IS NULL AND synthetic = 0"
            " ORDER BY start_ns LIMIT 1",
            (trace,),
        ).fetchone()
        after, after_name = last
        after_id = text(after)
        span_id = crash_span_id(writer, trace_id)
        message = f"process {pid} exited unexpectedly after span {after_name} ({after_id})"
        attrs = {
            "orca.crash.pid": pid,
            "orca.crash.writer": writer,
            "orca.crash.after_span": after_id,
            "orca.crash.after_name": after_name,
            "orca.crash.detected_ns": detected_ns,
            "error.type": "ProcessCrashed",
            "exception.message": message,
        }
        conn.execute(
            "INSERT INTO spans (trace_id, span_id, parent_id, name, component, start_ns, end_ns,"
            " status, attrs, proc_id, synthetic, chg)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'error', ?, ?, 1,"
            " (SELECT coalesce(max(value), 0) FROM meta WHERE key = 'batch'))"
            " ON CONFLICT (trace_id, span_id) DO NOTHING",
            (
                trace,
                key(span_id),
                root[0] if root else None,
                CRASH_SPAN_NAME,
                CRASH_COMPONENT,
                last_ns,
                last_ns,
                orjson.dumps(attrs).decode(),
                proc_id,
            ),
        )
        row = conn.execute(
            f"SELECT {SPAN_COLS} FROM spans WHERE trace_id = ? AND span_id = ?",
            (trace, key(span_id)),
        ).fetchone()
        made.append(span_row(row))
    return made


def retract(conn: sqlite3.Connection, writer: str) -> int:
    """Withdraw a crash verdict: the writer spoke again, so it was not dead.

    Deletes the synthetic crash spans and clears ``crashed_ns``; returns how
    many spans were withdrawn. A later real crash is attributed afresh.
    """
    proc = conn.execute("SELECT id FROM processes WHERE writer = ?", (writer,)).fetchone()
    if proc is None:
        return 0
    (proc_id,) = proc
    conn.execute("UPDATE processes SET crashed_ns = NULL WHERE id = ?", (proc_id,))
    return conn.execute(
        "DELETE FROM spans WHERE proc_id = ? AND synthetic = 1 AND name = ?",
        (proc_id, CRASH_SPAN_NAME),
    ).rowcount
