"""What ``orca migrate`` copies besides traces: loose logs, quarantine, roll-ups, writers.

* **logs outside any trace** are applied as log records under their own source,
  ``migrate:<source URL>#logs``, whose offset counts them: resumable like traces;
* **quarantined lines** keep their source name and byte offset (what ``orca
  status`` shows); they are applied as the batch's quarantine under those
  names, so a second run finds their offsets committed and adds nothing;
* **roll-ups** (with their duration histograms, so later prunes keep merging
  p95) and **writer processes** are rows without a record form: they are
  copied by key, a key the destination already has is left as it is.

The copies read and write through each engine's own connection (both are
this room's classes); the SQL is per engine, the plan is one.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, NamedTuple, cast

from orca.store._batch import Batch, Item, Quarantine
from orca.store._protocol import TraceStore
from orca.store._rows import LogRow
from orca.store._sqlite import SQLiteStore

if TYPE_CHECKING:  # psycopg is an optional extra: imported only when a PostgreSQL store exists
    from orca.store._pg import PostgresStore

LOGS_SUFFIX: Final = "#logs"
ROLLUP_COLS: Final = (
    "day, name, model, component, span_count, error_count, duration_sum_ns, duration_p95_ns,"
    " hist, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost"
)
PROCESS_COLS: Final = (
    "writer, pid, pstart, host, argv, started_ns, last_ns, heartbeat_ns, exited_ns,"
    " crashed_ns, dropped"
)


class Extras(NamedTuple):
    """How many of each the run copied (0 for what an earlier run copied)."""

    logs: int = 0
    quarantined: int = 0
    rollups: int = 0  # daily aggregates
    processes: int = 0  # writers


# -- per engine: raw rows out, raw rows in ----------------------------------------------


def _pg(store: TraceStore) -> "PostgresStore":
    """``store`` as the room's other engine (the factory makes only these two)."""
    return cast("PostgresStore", store)


@contextmanager
def _reading(store: TraceStore) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """A function running one SELECT in a consistent snapshot of ``store``."""
    if isinstance(store, SQLiteStore):
        with store._snapshot() as conn:
            yield lambda sql: list(conn.execute(sql))
    else:
        with _pg(store)._read() as pg:
            yield lambda sql: list(pg.execute(sql).fetchall())


def _insert(store: TraceStore, table: str, cols: str, rows: list[tuple[Any, ...]]) -> int:
    """Insert rows a destination lacks (by its key); how many were new."""
    if not rows:
        return 0
    marks = ", ".join("?" * len(rows[0]))
    if isinstance(store, SQLiteStore):
        with store._txn() as conn:
            before = conn.total_changes
            conn.executemany(f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})", rows)
            return int(conn.total_changes - before)
    pg = _pg(store)
    # A PostgreSQL store's writers are per origin: the copied ones become the destination's.
    prefix: tuple[Any, ...] = (pg.origin,) if table == "processes" else ()
    names = f"origin, {cols}" if prefix else cols
    values = ", ".join(["%s"] * (len(prefix) + len(rows[0])))
    sql = f"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING"

    def work(conn: Any) -> int:
        n = 0
        with conn.cursor() as cur:
            for row in rows:
                cur.execute(sql, (*prefix, *row))
                n += cur.rowcount
        return n

    return int(pg._txn(work))


def _loose_logs(src: TraceStore) -> list[LogRow]:
    """Logs that belong to no trace, oldest first (in each engine's row form)."""
    if isinstance(src, SQLiteStore):
        from orca.store import _read

        with src._snapshot() as conn:
            sql = f"SELECT {_read._LOG_COLS} FROM logs WHERE trace_id IS NULL ORDER BY id"
            return [_read.log_row(r) for r in conn.execute(sql)]
    from orca.store import _pg_read

    with _pg(src)._read() as pg:
        sql = f"SELECT {_pg_read._LOG_COLS} FROM logs WHERE trace_id IS NULL ORDER BY id"
        return _pg_read._fetch(pg, sql, (), LogRow)


# -- the plan ------------------------------------------------------------------------------


def log_record(log: LogRow) -> dict[str, Any]:
    """The journal record a stored log came from (what a copy applies)."""
    where = {"trace": log.trace_id, "span": log.span_id}
    return dict(
        v=1,
        kind="log",
        ts=log.ts_ns,
        level=log.level,
        msg=log.msg,
        component=log.component,
        attrs=log.attrs,
        **{k: v for k, v in where.items() if v is not None},
    )


def copy_logs(src: TraceStore, dst: TraceStore, source: str, batch_records: int) -> int:
    """Apply the source's loose logs after those an earlier run applied; how many."""
    name = source + LOGS_SUFFIX
    logs = _loose_logs(src)
    start = dst.offsets().get(name, 0)
    applied = 0
    for lo in range(start, len(logs), batch_records):
        chunk = logs[lo : lo + batch_records]
        batch = Batch([Item(log_record(log), name, lo + k) for k, log in enumerate(chunk)])
        batch.offsets[name] = lo + len(chunk)
        applied += dst.apply(batch).applied
    return applied


def copy_quarantine(src: TraceStore, dst: TraceStore) -> int:
    """The source's quarantined lines under their own source names and offsets; how many new."""
    batch = Batch()
    for q in src.quarantine(None):
        batch.quarantined.append(Quarantine(q.source, q.offset, q.length, q.reason, q.preview))
        end = q.offset + q.length
        batch.offsets[q.source] = max(batch.offsets.get(q.source, 0), end)
    if not batch.quarantined:
        return 0
    # Only names the destination has not seen: a segment it already tails keeps its offset.
    known = dst.offsets()
    batch.quarantined = [q for q in batch.quarantined if q.source not in known]
    batch.offsets = {n: o for n, o in batch.offsets.items() if n not in known}
    return dst.apply(batch).quarantined if batch.offsets else 0


def copy_rows(src: TraceStore, dst: TraceStore) -> tuple[int, int]:
    """Roll-ups and writer processes the destination lacks; (roll-ups, processes) added."""
    with _reading(src) as select:
        rollups = select(f"SELECT {ROLLUP_COLS} FROM rollups ORDER BY day, name, model, component")
        procs = select(f"SELECT {PROCESS_COLS} FROM processes ORDER BY id")
    return _insert(dst, "rollups", ROLLUP_COLS, rollups), _insert(
        dst, "processes", PROCESS_COLS, procs
    )


def copy_extras(src: TraceStore, dst: TraceStore, source: str, batch_records: int) -> Extras:
    """Everything but traces (see the module doc); writers first, so quarantine finds them."""
    rollups, processes = copy_rows(src, dst)
    quarantined = copy_quarantine(src, dst)
    logs = copy_logs(src, dst, source, batch_records)
    return Extras(logs, quarantined, rollups, processes)
