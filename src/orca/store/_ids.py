"""Trace and span ids as SQLite stores them: hex ids as blobs, half the bytes.

Ids are lower-case hex (32 digits for a trace, 16 for a span); stored as
text they cost twice their bytes in every row and index that holds them (the
spans row holds three, its unique index two): measured on
``bench/storage.py``, blobs save ~100 bytes a span. An id that is not
lower-case hex of even length (an imported one, a test's ``"t1"``) stays
text, so every id round-trips exactly: SQLite compares a blob only with
blobs, and the same :func:`key` is applied to every id written or looked up.

In the ``sqlite3`` shell: ``lower(hex(trace_id))`` shows an id, ``x'…'`` finds one.
"""

import sqlite3
from typing import Final

Key = bytes | str  # what an id column holds


def key(value: str) -> Key:
    """The stored form of id ``value``."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return value
    return raw if raw and raw.hex() == value else value


def key_or_none(value: str | None) -> Key | None:
    return None if value is None else key(value)


def text(value: Key) -> str:
    """An id as the API shows it (lower-case hex)."""
    return value.hex() if type(value) is bytes else value  # type: ignore[return-value]


def text_or_none(value: Key | None) -> str | None:
    return None if value is None else text(value)


def sql_text(col: str) -> str:
    """SQL: column ``col`` as the API shows it (for comparisons with text stored elsewhere)."""
    return f"(CASE WHEN typeof({col}) = 'blob' THEN lower(hex({col})) ELSE {col} END)"


KEY_FUNCTION: Final = "orca_id_key"  # the migration to schema 5 converts stored ids with it


def register(conn: sqlite3.Connection) -> None:
    """Give ``conn`` :func:`key` as an SQL function (deterministic: usable in any statement)."""
    conn.create_function(
        KEY_FUNCTION, 1, lambda v: v if v is None or type(v) is not str else key(v),
        deterministic=True,
    )  # fmt: skip


def prefix_bounds(prefix: str) -> tuple[bytes, bytes]:
    """Blob bounds ``lo <= id <= hi`` of the ids whose hex begins with ``prefix`` (hex)."""
    lo = bytes.fromhex(prefix + "0" * (len(prefix) % 2))
    hi = bytes.fromhex(prefix + "f" * (len(prefix) % 2)) + b"\xff" * 32
    return lo, hi
