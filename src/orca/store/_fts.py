"""Full-text search: SQLite FTS5 over log messages, attribute values and text bodies.

The index is filled lazily from cursors kept in ``meta`` (the last log row,
the last batch number that changed a span, the last body row), on the first
search and on the collector's cadence, never per insert: measured on the
bench, indexing at insert time cost more than a third of ingest throughput,
while catching up 1M records takes a few seconds once.
"""

import sqlite3
from typing import Any, Final, Literal

import orjson

from orca.store import _bodies
from orca.store._rows import SearchHit

CHUNK: Final = 5000
Where = Literal["attrs", "bodies", "logs"]


def _cursor(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def _set_cursor(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def _attr_text(attrs: str | None) -> str:
    if not attrs:
        return ""
    values: dict[str, Any] = orjson.loads(attrs)
    return " ".join(f"{k} {v}" for k, v in values.items() if isinstance(v, str))


def catch_up(conn: sqlite3.Connection, limit: int | None = None) -> int:
    """Index what was written since the last catch-up (caller holds a write transaction).

    ``limit`` bounds the rows taken from each table in one call, so a collector
    can interleave catching up with ingest; returns the rows indexed (a result
    below the bound on every table means the index is current).
    """
    done = 0
    bound = -1 if limit is None else limit
    last = _cursor(conn, "fts.logs")
    rows = conn.execute(
        "SELECT id, msg, attrs FROM logs WHERE id > ? ORDER BY id LIMIT ?", (last, bound)
    )
    batch = [(i, f"{msg} {_attr_text(attrs)}") for i, msg, attrs in rows]
    conn.executemany("INSERT INTO fts_logs (rowid, text) VALUES (?, ?)", batch)
    if batch:
        _set_cursor(conn, "fts.logs", batch[-1][0])
        done += len(batch)

    last = _cursor(conn, "fts.spans")
    top = _cursor(conn, "batch")
    if limit is not None:
        # Whole batches only (the cursor is a batch number): stop at the batch where
        # the limit is reached.
        row = conn.execute(
            "SELECT chg FROM spans WHERE chg > ? ORDER BY chg LIMIT 1 OFFSET ?", (last, limit)
        ).fetchone()
        if row is not None:
            top = min(top, row[0])
    rows = conn.execute("SELECT id, name, attrs FROM spans WHERE chg > ? AND chg <= ?", (last, top))
    spans = [(i, f"{name} {_attr_text(attrs)}") for i, name, attrs in rows]
    conn.executemany("DELETE FROM fts_attrs WHERE rowid = ?", [(i,) for i, _ in spans])
    conn.executemany("INSERT INTO fts_attrs (rowid, text) VALUES (?, ?)", spans)
    _set_cursor(conn, "fts.spans", top)
    done += len(spans)

    last = _cursor(conn, "fts.bodies")
    texts = []
    top_body = last
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM bodies WHERE id > ? ORDER BY id LIMIT ?", (last, bound)
        ).fetchall()
    ]
    for i in ids:
        top_body = i
        try:
            texts.append((i, (_bodies.load(conn, "id", i) or b"").decode("utf-8")))
        except UnicodeDecodeError:
            continue  # binary bodies are not searchable as text
    conn.executemany("INSERT INTO fts_bodies (rowid, text) VALUES (?, ?)", texts)
    _set_cursor(conn, "fts.bodies", top_body)
    return done + len(texts)


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: each word quoted (no syntax to get wrong), all needed."""
    words = text.split()
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


_QUERIES: Final[dict[str, str]] = {
    "logs": "SELECT l.trace_id, l.span_id, l.ts_ns, snippet(fts_logs, 0, '[', ']', '…', 12)"
    " FROM fts_logs JOIN logs l ON l.id = fts_logs.rowid WHERE fts_logs MATCH ?",
    "attrs": "SELECT s.trace_id, s.span_id, s.start_ns, snippet(fts_attrs, 0, '[', ']', '…', 12)"
    " FROM fts_attrs JOIN spans s ON s.id = fts_attrs.rowid WHERE fts_attrs MATCH ?",
    "bodies": "SELECT b.trace_id, b.span_id, b.first_ns,"
    " snippet(fts_bodies, 0, '[', ']', '…', 12)"
    " FROM fts_bodies JOIN bodies b ON b.id = fts_bodies.rowid WHERE fts_bodies MATCH ?",
}
_TS: Final = {"logs": "l.ts_ns", "attrs": "s.start_ns", "bodies": "b.first_ns"}


def search(
    conn: sqlite3.Connection, text: str, *, where: Where | None, since_ns: int | None, limit: int
) -> list[SearchHit]:
    query = fts_query(text)
    if not query:
        return []
    hits: list[SearchHit] = []
    places: list[Where] = [where] if where is not None else ["logs", "attrs", "bodies"]
    for place in places:
        sql = _QUERIES[place]
        args: list[Any] = [query]
        if since_ns is not None:
            sql += f" AND {_TS[place]} >= ?"
            args.append(since_ns)
        sql += f" ORDER BY {_TS[place]} DESC LIMIT ?"
        args.append(limit)
        for trace, span, ts, snippet in conn.execute(sql, args):
            hits.append(SearchHit(trace, span, ts, place, snippet))
    hits.sort(key=lambda h: h.ts_ns, reverse=True)
    return hits[:limit]
