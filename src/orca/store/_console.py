"""One read-only SQL query on the SQLite store (``orca sql``).

Why a command and not the ``sqlite3`` shell: since schema 6 a span's
attributes are a zstd frame packed with the store's own dictionary (see
``_attrs``), which only ORCA can read. Here the connection has ORCA's SQL
functions — ``orca_attrs(attrs)`` gives a span's attributes as JSON text,
``orca_body_text(bodies.id)`` a body — and ids (blobs) come out as the lower-case
hex the API shows.

Read-only three times over: the file is opened ``mode=ro``, ``query_only`` is
set, and an authorizer allows reading and nothing else (no ``ATTACH``, which
could create a file, no pragma that sets a value). Any refusal or SQL error
is one :class:`~orca.errors.UsageError` line saying what to change.
"""

import os
import sqlite3
from typing import Final, NamedTuple

from orca.errors import UsageError
from orca.store import _attrs, _fts
from orca.store._errors import StoreError
from orca.store._open import locate_store

SqlValue = str | int | float | None  # a cell as shown: blobs become lower-case hex

# What reading needs (sqlite3 authorizer action codes); everything else is refused.
_READING: Final = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
# Pragmas that take an argument and only read (``PRAGMA table_info(spans)``).
_READ_PRAGMAS: Final = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
)


class SqlResult(NamedTuple):
    """The rows of one query: column names, rows (at most the limit), whether more were left."""

    columns: list[str]
    rows: list[tuple[SqlValue, ...]]
    truncated: bool


def _authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action in _READING:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg2 is None or (arg1 or "").lower() in _READ_PRAGMAS):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # asked when a table-valued function (json_each) first builds its virtual table
        # in memory; the file itself stays read-only (mode=ro, query_only)
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _cell(value: object) -> SqlValue:
    if isinstance(value, bytes):
        return value.hex()
    return value  # type: ignore[return-value]  # sqlite3 gives str, int, float or None


def _connect(url_or_home: str | os.PathLike[str]) -> sqlite3.Connection:
    where = locate_store(url_or_home)
    if where.engine != "sqlite" or where.path is None:
        raise UsageError(
            f"orca sql reads an SQLite store; {where.shown} is PostgreSQL: query it with psql"
        )
    if not where.path.exists():
        raise StoreError(f"no store at {where.path}; run `orca collect --once` to build it")
    try:
        conn = sqlite3.connect(
            f"{where.path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None
        )
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read store {where.path} ({exc}); check its permissions") from None
    _attrs.register(conn)
    _fts.register(conn)
    conn.set_authorizer(_authorize)
    # Python code runs every 100k VM steps, so Ctrl-C stops a runaway query (a signal is
    # only handled between bytecodes; without this, SIGINT waits for SQLite to finish)
    conn.set_progress_handler(_go_on, 100_000)
    return conn


def _go_on() -> int:
    return 0


def run_sql(url_or_home: str | os.PathLike[str], sql: str, *, limit: int) -> SqlResult:
    """Run one SELECT (or reading PRAGMA) on the store; at most ``limit`` rows."""
    if not sql.strip():
        raise UsageError('give a query, e.g. orca sql "SELECT count(*) FROM spans"')
    conn = _connect(url_or_home)
    try:
        cur = conn.execute(sql)
        columns = [d[0] for d in cur.description or ()]
        rows = [tuple(_cell(v) for v in row) for row in cur.fetchmany(limit + 1)]
    except sqlite3.ProgrammingError as exc:  # more than one statement
        raise UsageError(f"{exc} Run one statement per `orca sql`.") from None
    except sqlite3.DatabaseError as exc:
        raise UsageError(_explain(exc)) from None
    finally:
        conn.close()
    return SqlResult(columns, rows[:limit], len(rows) > limit)


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    refused = ("not authorized", "authorization denied", "readonly", "query_only")
    if any(word in text for word in refused):
        return f"{text}: orca sql only reads (SELECT, WITH, reading PRAGMAs); nothing was changed"
    if text == "interrupted":
        return "interrupted (Ctrl-C): the query was stopped, nothing was changed"
    if "user-defined function" in text:
        return (
            f"{text}: an orca_ function was given a value it cannot read"
            " (orca_attrs takes spans.attrs, orca_body_text a bodies.id)"
        )
    return f"SQL error: {text} (docs/store.md lists the tables and columns)"
