"""The ledger mirror: governed actions in the store, joined to traces by trace id.

The ledger (``<home>/ledger/ledger.ndjson``) is the ground truth; the collector
copies each signed entry here so ``orca trace`` can show governed actions
inline with spans, and so questions like "every action of run R" are one
indexed query instead of a scan of the ledger. Rows are keyed by the ledger's
own entry id, so applying an entry twice is a no-op (``ON CONFLICT DO
NOTHING``), whatever the offsets say. The payload (args, result, meta) is kept
as JSON and set to NULL when the ledger erased it (``forget``), so the mirror
never outlives an erasure it has been told about.

Plain functions over a connection, called by the SQLite store inside its
transactions (the write side from ``apply_batch``, pruning from ``prune``).
"""

import sqlite3
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

import orjson

from orca.store._batch import LedgerItem
from orca.store._errors import StoreError
from orca.store._ids import key, sql_text
from orca.store._rows import LedgerRow

# Schema version 2 (listed in ``_schema.MIGRATIONS``).
MIGRATION: Final[list[str]] = [
    """CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,             -- the ledger's entry id (monotonic)
        ts_ns INTEGER NOT NULL,
        kind TEXT NOT NULL,                 -- envelope.accepted, budget.exceeded, …
        run TEXT,
        trace_id TEXT,
        span_id TEXT,
        actor TEXT,
        prev TEXT NOT NULL,                 -- hash of the previous entry
        hash TEXT NOT NULL,                 -- this entry's hash (over its header)
        payload_hash TEXT NOT NULL,         -- sha256 of the payload bytes (the commitment)
        payload TEXT,                       -- JSON {"args","result","meta"}; NULL when erased
        erased INTEGER NOT NULL DEFAULT 0,  -- 1: the ledger's payload was erased (forget)
        signature TEXT,                     -- the batch signature covering it (provenance)
        key_id TEXT                         -- the signing key's id
    )""",
    "CREATE INDEX ledger_trace ON ledger(trace_id, id) WHERE trace_id IS NOT NULL",
    "CREATE INDEX ledger_run ON ledger(run, id) WHERE run IS NOT NULL",
    "CREATE INDEX ledger_ts ON ledger(ts_ns)",
]

_COLS: Final = (
    "id, ts_ns, kind, run, trace_id, span_id, actor, prev, hash, payload_hash, payload,"
    " erased, signature, key_id"
)
_INSERT: Final = (
    f"INSERT INTO ledger ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO NOTHING"
)
# A trace known only from the ledger still gets a row (so ``orca trace`` finds it);
# its start is the earliest record of either kind.
_TRACE: Final = """
INSERT INTO traces (trace_id, start_ns) VALUES (?, ?)
ON CONFLICT (trace_id) DO UPDATE SET start_ns = min(traces.start_ns, excluded.start_ns)
"""


class _Cols(NamedTuple):
    """A row of ``SELECT {_COLS} FROM ledger``, by name."""

    id: int
    ts_ns: int
    kind: str
    run: str | None
    trace_id: str | None
    span_id: str | None
    actor: str | None
    prev: str
    hash: str
    payload_hash: str
    payload: str | None
    erased: int
    signature: str | None
    key_id: str | None


def _payload(row: LedgerRow) -> str | None:
    if row.erased:
        return None
    return orjson.dumps({"args": row.args, "result": row.result, "meta": row.meta}).decode()


def write(
    conn: sqlite3.Connection, items: Iterable[LedgerItem], committed: dict[str, int]
) -> tuple[dict[str, int], int]:
    """Insert entries not below their source's ``committed`` offset.

    Returns (new rows per source, entries skipped as already applied).
    """
    rows: dict[str, list[_Cols]] = {}
    skipped = 0
    starts: dict[str, int] = {}
    for item in items:
        if item.source not in committed:
            raise StoreError(
                f"batch has a ledger entry from {item.source!r} but no offset for it; "
                "give every source's offset in Batch.offsets"
            )
        if item.offset < committed[item.source]:
            skipped += 1
            continue
        r = item.row
        rows.setdefault(item.source, []).append(
            _Cols(
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
                int(r.erased),
                r.signature,
                r.key_id,
            )
        )
        if r.trace_id is not None and r.ts_ns < starts.get(r.trace_id, r.ts_ns + 1):
            starts[r.trace_id] = r.ts_ns
    counts: dict[str, int] = {}
    for source, batch in rows.items():
        # rowcount of an executemany is the sum: conflicts (already mirrored) add 0.
        counts[source] = conn.executemany(_INSERT, batch).rowcount
        skipped += len(batch) - counts[source]
    conn.executemany(_TRACE, [(key(t), ts) for t, ts in starts.items()])
    return counts, skipped


def erase(conn: sqlite3.Connection, ids: Iterable[int]) -> int:
    """Drop the payload of entries the ledger erased; returns how many rows changed."""
    changed = 0
    for entry_id in ids:
        changed += conn.execute(
            "UPDATE ledger SET payload = NULL, erased = 1 WHERE id = ? AND erased = 0",
            (entry_id,),
        ).rowcount
    return changed


def _row(r: tuple[Any, ...]) -> LedgerRow:
    c = _Cols._make(r)
    payload = orjson.loads(c.payload) if c.payload is not None else {}
    return LedgerRow(
        id=c.id,
        ts_ns=c.ts_ns,
        kind=c.kind,
        run=c.run,
        trace_id=c.trace_id,
        span_id=c.span_id,
        actor=c.actor,
        prev=c.prev,
        hash=c.hash,
        payload_hash=c.payload_hash,
        args=payload.get("args"),
        result=payload.get("result"),
        meta=payload.get("meta"),
        erased=bool(c.erased),
        signature=c.signature,
        key_id=c.key_id,
    )


def for_trace(conn: sqlite3.Connection, trace_id: str) -> list[LedgerRow]:
    """A trace's entries in ledger order (indexed by trace id)."""
    return [
        _row(r)
        for r in conn.execute(
            f"SELECT {_COLS} FROM ledger WHERE trace_id = ? ORDER BY id", (trace_id,)
        )
    ]


def select(
    conn: sqlite3.Connection,
    *,
    run: str | None,
    trace: str | None,
    since_ns: int | None,
    limit: int | None,
) -> list[LedgerRow]:
    """Entries in ledger order (oldest first), filtered as asked; ``limit`` keeps the first N."""
    where: list[str] = ["1"]
    args: list[Any] = []
    for col, value in (("run", run), ("trace_id", trace)):
        if value is not None:
            where.append(f"{col} = ?")
            args.append(value)
    if since_ns is not None:
        where.append("ts_ns >= ?")
        args.append(since_ns)
    sql = f"SELECT {_COLS} FROM ledger WHERE {' AND '.join(where)} ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [_row(r) for r in conn.execute(sql, args)]


def prune(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    """Delete the mirror rows of doomed traces (``temp.doomed``) and old trace-less ones.

    The ledger keeps every entry; only the store's copy follows trace retention,
    so a pinned trace keeps its governed actions with it.
    """
    n: int = conn.execute(  # the mirror keeps ids as the ledger has them: text
        f"DELETE FROM ledger WHERE trace_id IN (SELECT {sql_text('trace_id')} FROM temp.doomed)"
    ).rowcount
    n += conn.execute(
        "DELETE FROM ledger WHERE trace_id IS NULL AND ts_ns < ?", (cutoff_ns,)
    ).rowcount
    return n
