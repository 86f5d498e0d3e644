"""The full-text index: SQLite FTS5 tables that hold the index and no copy of the text.

Why contentless: the content-copy FTS5 tables of schema 3 stored every log
message, attribute value and (uncompressed) body a second time, which doubled
the store (measured on ``bench/storage.py``: 2.1x the journal's bytes per
span). Since schema 4 the tables are ``content=''`` (the text is read through
the store: rows for logs and attributes, bodies decompressed on demand) with
``columnsize=0``; the bodies' index, by far the biggest, is ``detail=none``
(row ids per term, no positions: a third of a full-detail one), while logs and
attributes, small, keep positions, so identifiers such as ``gpt-4o`` or
``lookup_order`` (phrases to FTS5) are matched there by the index alone. In
bodies such a word is checked against the text of each candidate (see
``_search``), so results stay what they were.

The index is filled lazily from cursors kept in ``meta`` (the last log row,
the last batch number that changed a span, the last body row), on the first
search and on the collector's cadence, never per insert: measured on the
bench, indexing at insert time cost more than a third of ingest throughput,
while catching up 1M records takes a few seconds once.

A contentless table can only forget a row when it is told the row's text
again, so triggers do that wherever a row leaves or changes: a row is in the
index exactly when its key is at or below its cursor (a row id reused below
the cursor is indexed on insert), and the text indexed is the text the same
SQL expression gives for the row now. Bodies need Python
(zstd), so their trigger calls ``orca_body_text``, which every store
connection registers (:func:`register`).
"""

import sqlite3
from typing import Final

from orca.store import _bodies
from orca.store._attrs import DECODE as ATTRS_JSON


def attr_text(col: str) -> str:
    """SQL: the string attribute values of a JSON object as ``key value key value``."""
    return (
        f"coalesce((SELECT group_concat(key || ' ' || value, ' ') FROM json_each({col})"
        " WHERE type = 'text'), '')"
    )


def span_text(row: str) -> str:
    """SQL: what the index holds for a span (its name and string attributes).

    Its attributes are read through ``orca_attrs`` (stored compressed, see ``_attrs``).
    """
    return f"{row}.name || ' ' || {attr_text(f'{ATTRS_JSON}({row}.attrs)')}"


def log_text(row: str) -> str:
    """SQL: what the index holds for a log line (its message and string attributes)."""
    return f"{row}.msg || ' ' || {attr_text(row + '.attrs')}"


BODY_TEXT: Final = "orca_body_text"
_OPTIONS: Final = "text, content='', columnsize=0, tokenize='unicode61'"
POSITIONLESS: Final = frozenset({"bodies"})  # places indexed with detail=none


def _cursor_sql(key: str) -> str:
    return f"(SELECT value FROM meta WHERE key = '{key}')"


def _forget(table: str, text: str) -> str:
    """SQL: tell contentless ``table`` that the old row (whose text was ``text``) is gone."""
    return f"INSERT INTO {table} ({table}, rowid, text) VALUES ('delete', old.id, {text});"


SPAN_UPDATE_TRIGGER: Final = f"""CREATE TRIGGER fts_spans_update AFTER UPDATE ON spans
        WHEN old.chg <= {_cursor_sql("fts.spans")}
        BEGIN
            {_forget("fts_attrs", span_text("old"))}
            INSERT INTO fts_attrs (rowid, text) SELECT new.id, {span_text("new")}
                WHERE new.chg <= {_cursor_sql("fts.spans")};
        END"""

SPAN_DELETE_TRIGGER: Final = f"""CREATE TRIGGER fts_spans_delete AFTER DELETE ON spans
        WHEN old.chg <= {_cursor_sql("fts.spans")}
        BEGIN {_forget("fts_attrs", span_text("old"))} END"""

# Part of schema version 6: the spans' triggers read attributes through ``orca_attrs``
# (the text they index does not change: a JSON text reads back as itself).
SPAN_TRIGGERS_MIGRATION: Final[list[str]] = [
    "DROP TRIGGER fts_spans_update",
    "DROP TRIGGER fts_spans_delete",
    SPAN_UPDATE_TRIGGER,
    SPAN_DELETE_TRIGGER,
]

# The bodies' triggers (made again when schema 5 rebuilt the table).
BODY_TRIGGERS: Final[list[str]] = [
    f"""CREATE TRIGGER fts_bodies_insert AFTER INSERT ON bodies
        WHEN new.id <= {_cursor_sql("fts.bodies")}
        BEGIN INSERT INTO fts_bodies (rowid, text) VALUES (new.id, {BODY_TEXT}(new.id)); END""",
    # BEFORE: the body's bytes (and its base's) are still there to decode.
    f"""CREATE TRIGGER fts_bodies_delete BEFORE DELETE ON bodies
        WHEN old.id <= {_cursor_sql("fts.bodies")}
        BEGIN {_forget("fts_bodies", BODY_TEXT + "(old.id)")} END""",
]

# Schema version 4 (listed in ``_schema.MIGRATIONS``): the content-copy tables go,
# the contentless ones start empty and the collector rebuilds them from the cursors.
MIGRATION: Final[list[str]] = [
    "DROP TABLE IF EXISTS fts_attrs",
    "DROP TABLE IF EXISTS fts_logs",
    "DROP TABLE IF EXISTS fts_bodies",
    "DELETE FROM meta WHERE key IN ('fts.spans', 'fts.logs', 'fts.bodies')",
    f"CREATE VIRTUAL TABLE fts_attrs USING fts5({_OPTIONS})",
    f"CREATE VIRTUAL TABLE fts_logs USING fts5({_OPTIONS})",
    f"CREATE VIRTUAL TABLE fts_bodies USING fts5({_OPTIONS}, detail=none)",
    # A changed span that was indexed: out with the old text; back in at once when its
    # batch number did not move (else the next catch-up indexes it).
    SPAN_UPDATE_TRIGGER,
    SPAN_DELETE_TRIGGER,
    f"""CREATE TRIGGER fts_logs_delete AFTER DELETE ON logs
        WHEN old.id <= {_cursor_sql("fts.logs")}
        BEGIN {_forget("fts_logs", log_text("old"))} END""",
    # Row ids of logs and bodies are reused once the newest rows are deleted (no
    # AUTOINCREMENT): a row inserted at or below the cursor is indexed at once.
    f"""CREATE TRIGGER fts_logs_insert AFTER INSERT ON logs
        WHEN new.id <= {_cursor_sql("fts.logs")}
        BEGIN INSERT INTO fts_logs (rowid, text) VALUES (new.id, {log_text("new")}); END""",
    *BODY_TRIGGERS,
]


def body_text(conn: sqlite3.Connection, body_id: int) -> str | None:
    """A body as text (None: unknown, or not UTF-8, which is not searchable)."""
    try:
        data = _bodies.load(conn, "id", body_id)
    except ValueError:
        return None
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def register(conn: sqlite3.Connection) -> None:
    """Give ``conn`` the SQL function the bodies trigger calls (every store connection)."""
    conn.create_function(BODY_TEXT, 1, lambda i: body_text(conn, i))


def _cursor(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def _set_cursor(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def catch_up(conn: sqlite3.Connection, limit: int | None = None) -> int:
    """Index what was written since the last catch-up (caller holds a write transaction).

    ``limit`` bounds the rows taken from each table in one call, so a collector
    can interleave catching up with ingest; returns the rows indexed (a result
    below the bound on every table means the index is current).
    """
    done = 0
    bound = -1 if limit is None else limit
    last = _cursor(conn, "fts.logs")
    top = conn.execute(
        "SELECT max(id), count(*) FROM (SELECT id FROM logs WHERE id > ? ORDER BY id LIMIT ?)",
        (last, bound),
    ).fetchone()
    if top[1]:
        conn.execute(
            f"INSERT INTO fts_logs (rowid, text) SELECT l.id, {log_text('l')} FROM logs l"
            " WHERE l.id > ? AND l.id <= ?",
            (last, top[0]),
        )
        _set_cursor(conn, "fts.logs", top[0])
        done += top[1]

    last = _cursor(conn, "fts.spans")
    newest = _cursor(conn, "batch")
    if limit is not None:
        # Whole batches only (the cursor is a batch number): stop at the batch where
        # the limit is reached.
        row = conn.execute(
            "SELECT chg FROM spans WHERE chg > ? ORDER BY chg LIMIT 1 OFFSET ?", (last, limit)
        ).fetchone()
        if row is not None:
            newest = min(newest, row[0])
    cur = conn.execute(
        f"INSERT INTO fts_attrs (rowid, text) SELECT s.id, {span_text('s')} FROM spans s"
        " WHERE s.chg > ? AND s.chg <= ?",
        (last, newest),
    )
    _set_cursor(conn, "fts.spans", max(newest, last))
    done += max(cur.rowcount, 0)

    last = _cursor(conn, "fts.bodies")
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM bodies WHERE id > ? ORDER BY id LIMIT ?", (last, bound)
        ).fetchall()
    ]
    # A body that is not text gets an empty row, so its delete trigger stays exact.
    texts = [(i, body_text(conn, i)) for i in ids]
    conn.executemany("INSERT INTO fts_bodies (rowid, text) VALUES (?, ?)", texts)
    if ids:
        _set_cursor(conn, "fts.bodies", ids[-1])
    return done + sum(1 for _, t in texts if t is not None)


def purge(conn: sqlite3.Connection) -> None:
    """Merge each index into one segment, so terms of deleted rows leave the file.

    An FTS5 delete only records that the row is gone; the terms stay in the
    older segments until they are merged. Called after deletions that must
    not leave text behind (prune); with ``secure_delete`` on, the freed pages
    are zeroed too.
    """
    for table in ("fts_attrs", "fts_logs", "fts_bodies"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
