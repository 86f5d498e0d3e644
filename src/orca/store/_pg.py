"""The PostgreSQL trace store: many hosts' collectors, one database.

A thin class like :class:`~orca.store.SQLiteStore`: a connection pool
(``psycopg_pool``), migrations, transactions with retry; the SQL lives in
``_pg_write`` (batches), ``_pg_read`` (the read side) and ``_pg_ops`` (crash
attribution, pins, retention, status). A batch is one transaction; if the
connection is lost mid-batch the transaction is gone with it (all or
nothing) and the batch is applied again on a fresh connection — safe, since
offsets commit with the rows and records carry their identity.
"""

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Concatenate, Final, Literal, ParamSpec, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from orca.blobs import BLOBS_DIR

if TYPE_CHECKING:
    from orca.blobs import BlobStore
from orca.store import _pg_bodies, _pg_ops, _pg_read, _pg_search, _pg_write
from orca.store._batch import ApplyResult, Batch
from orca.store._bodies import Blobs
from orca.store._errors import SchemaError, StoreError
from orca.store._open import mask_url
from orca.store._pg_schema import (
    MIGRATE_LOCK,
    MIGRATIONS,
    PARTITION_LOCK,
    SCHEMA_VERSION,
    partition_ddl,
)
from orca.store._retention import PruneResult, RetentionPolicy
from orca.store._rows import (
    SpanRow,
)
from orca.store._shared import read_range

RETRIES: Final = 5  # attempts of one transaction when the connection is lost
CONNECT_TIMEOUT_S: Final = 10
T = TypeVar("T")
P = ParamSpec("P")
Conn = psycopg.Connection[Any]


def _reads(fn: Callable[Concatenate[Conn, P], T]) -> Callable[Concatenate["PostgresStore", P], T]:
    """A read method: ``fn`` run in one read-only snapshot (``_pg_read``/``_pg_ops``)."""

    def method(self: "PostgresStore", /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._read() as conn:
            return fn(conn, *args, **kwargs)

    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


def _reads_own(
    fn: Callable[Concatenate[Conn, str, P], T],
) -> Callable[Concatenate["PostgresStore", P], T]:
    """A read method of this origin's rows (sources, writers, quarantine)."""

    def method(self: "PostgresStore", /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._read() as conn:
            return fn(conn, self.origin, *args, **kwargs)

    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


class PostgresStore:
    """Implements :class:`~orca.store.TraceStore` over one PostgreSQL database."""

    engine: Literal["postgresql"] = "postgresql"

    def __init__(
        self, url: str, origin: str, pool: ConnectionPool[Conn], home: Path | None = None
    ) -> None:
        self.url = mask_url(url)
        self.origin = origin
        self.home = home
        self._pool = pool
        self._days: set[int] = set()  # span partitions known to exist
        self._blob_store: BlobStore | None = None

    @classmethod
    def open(
        cls, url: str, *, origin: str, home: Path | None = None, max_size: int = 4
    ) -> "PostgresStore":
        """Connect (a pool of up to ``max_size``) and migrate; a clear error when unreachable.

        ``home``: the collector's home, whose blob store keeps bodies above 256 KiB
        (see ``_pg_bodies``); without one every body stays in the database.
        """
        pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=False,
            check=ConnectionPool.check_connection,
            # autocommit: transactions are opened explicitly (conn.transaction() for
            # writes, BEGIN … READ ONLY for reads), never implicitly by a first statement
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True},
            name="orca-store",
        )
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (PoolTimeout, psycopg.Error) as exc:
            pool.close()
            raise StoreError(
                f"cannot connect to the store {mask_url(url)}:"
                f" {str(exc).strip() or type(exc).__name__};"
                " check the URL and that the server is running"
            ) from None
        store = cls(url, origin, pool, home)
        try:
            store._migrate()
        except BaseException:
            pool.close()
            raise
        return store

    def _migrate(self) -> None:
        def step(conn: Conn) -> None:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS orca_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM orca_schema").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"{self.url} has schema version {version}, newer than this ORCA reads "
                    f"({SCHEMA_VERSION}); upgrade ORCA"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO orca_schema VALUES (%s)", (SCHEMA_VERSION,))
            else:
                conn.execute("UPDATE orca_schema SET version = %s", (SCHEMA_VERSION,))

        self._txn(step)

    # -- transactions -------------------------------------------------------------

    def _txn(self, work: Callable[[Conn], T]) -> T:
        """Run ``work`` in one transaction; again on a fresh connection if this one is lost."""
        for attempt in range(RETRIES):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return work(conn)
            except psycopg.OperationalError as exc:
                if attempt == RETRIES - 1:
                    raise StoreError(
                        f"lost the connection to {self.url} {RETRIES} times ({exc});"
                        " check the server, nothing of the batch was kept"
                    ) from None
                time.sleep(min(0.05 * 2**attempt, 1.0))
            except psycopg.errors.DeadlockDetected:
                time.sleep(0.01 * (attempt + 1))  # the other writer won; ours is rolled back
            except PoolTimeout as exc:
                raise StoreError(f"no connection to {self.url} ({exc})") from None
        raise StoreError(f"gave up on a transaction on {self.url} after {RETRIES} attempts")

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        """A read-only snapshot (REPEATABLE READ): several statements see one state."""
        with self._pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    def blobs(self) -> "BlobStore":
        """The home's blob store, opened (made on first use) as the SQLite store does."""
        if self._blob_store is None:
            assert self.home is not None
            made = (self.home / BLOBS_DIR / "keys").is_dir()
            from orca.blobs import BlobStore  # the cipher loads with the first big body

            self._blob_store = BlobStore.open(self.home, create=not made)
        return self._blob_store

    @property
    def _blobs(self) -> Blobs | None:
        return self.blobs if self.home is not None else None

    def _ensure_days(self, days: set[int]) -> None:
        """Create missing day partitions of ``spans``, in their own short transaction.

        Outside the batch's transaction: creating a partition locks the parent
        table, which inside a batch would wait on (or deadlock with) other writers.
        """
        missing = days - self._days
        if not missing:
            return

        def make(conn: Conn) -> None:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
            for day in sorted(missing):
                conn.execute(partition_ddl(day))

        self._txn(make)
        self._days |= missing

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- write side ---------------------------------------------------------------

    def apply(self, batch: Batch) -> ApplyResult:
        """Apply a batch and its offsets in one transaction; re-applying it changes nothing."""
        self._ensure_days(_pg_write.collect(batch))

        def work(conn: Conn) -> ApplyResult:
            return _pg_write.apply_batch(conn, batch, self.origin, self._ensure_in_txn, self._blobs)

        try:
            return self._txn(work)
        except psycopg.errors.CheckViolation:
            # No partition for a row: another host's prune dropped a day we knew of.
            self._days.clear()
            return self._txn(work)

    def _ensure_in_txn(self, days: set[int]) -> None:
        if days - self._days:  # a trace whose day partition was dropped meanwhile (rare)
            self._days.clear()
            self._ensure_days(days)

    def offsets(self) -> dict[str, int]:
        with self._read() as conn:
            rows = conn.execute(
                'SELECT name, "offset" FROM sources WHERE origin = %s', (self.origin,)
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def attribute_crash(self, writer: str, *, detected_ns: int) -> list[SpanRow]:
        return self._txn(lambda c: _pg_ops.attribute(c, self.origin, writer, detected_ns))

    def retract_crash(self, writer: str) -> int:
        return self._txn(lambda c: _pg_ops.retract(c, self.origin, writer))

    def mark_source_deleted(self, name: str, ts_ns: int) -> None:
        self._txn(
            lambda c: c.execute(
                "UPDATE sources SET deleted_ns = %s WHERE origin = %s AND name = %s",
                (ts_ns, self.origin, name),
            )
        )

    def pin(self, trace_id: str, pinned: bool = True) -> bool:
        return self._txn(
            lambda c: (
                c.execute(
                    "UPDATE traces SET pinned = %s WHERE trace_id = %s", (pinned, trace_id)
                ).rowcount
                > 0
            )
        )

    def prune(
        self,
        policy: RetentionPolicy | None = None,
        *,
        now_ns: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> PruneResult:
        from orca.store._retention import DEFAULT_RETENTION

        def work(conn: Conn) -> tuple[PruneResult, set[str]]:
            before = _pg_bodies.blob_shas(conn)
            result = _pg_ops.prune(
                conn, policy or DEFAULT_RETENTION, now_ns=now_ns, progress=progress
            )
            return result, before - _pg_bodies.blob_shas(conn)

        result, dropped = self._txn(work)
        self._days.clear()  # partitions may have been dropped
        return dataclasses.replace(result, blobs_deleted=self._delete_blobs(dropped))

    def _delete_blobs(self, shas: set[str]) -> int:
        """Delete this home's blobs of body rows a committed prune removed (unless re-added).

        Other hosts' copies are theirs: ``orca blobs gc`` there finds them unreferenced.
        """
        if not shas or self.home is None:
            return 0
        with self._read() as conn:
            kept = _pg_bodies.blob_shas(conn)
        return sum(self.blobs().delete(sha) for sha in sorted(shas - kept))

    rollups = _reads(_pg_ops.read_rollups)

    def catch_up_search(self, limit: int | None = None) -> int:
        """Nothing to catch up: the GIN indexes are maintained by each batch's transaction."""
        return 0

    def erase_ledger_payloads(self, entry_ids: list[int]) -> int:
        return self._txn(
            lambda c: (
                c.execute(
                    "UPDATE ledger SET payload = NULL, erased = true"
                    " WHERE origin = %s AND id = ANY(%s) AND NOT erased",
                    (self.origin, entry_ids),
                ).rowcount
            )
        )

    ledger_entries = _reads(_pg_read.ledger)

    # -- status (this origin's sources and writers; the whole store's totals) ------

    sources = _reads_own(_pg_ops.sources)
    processes = _reads_own(_pg_ops.processes)
    quarantine = _reads_own(_pg_ops.quarantine)
    totals = _reads(_pg_ops.totals)

    # -- read side (TraceReader) ----------------------------------------------------

    list_traces = _reads(_pg_read.list_traces)
    get_trace = _reads(_pg_read.get_trace)
    get_span = _reads(_pg_read.get_span)
    span_logs = _reads(_pg_read.span_logs)
    span_links = _reads(_pg_read.span_links)

    def get_body(self, sha256: str) -> bytes | None:
        with self._read() as conn:
            return _pg_bodies.load(conn, sha256, self._blobs)

    def open_body(self, sha256: str) -> BinaryIO | None:
        """A body as a stream (a blob streams from this home's blob store)."""
        with self._read() as conn:
            return _pg_bodies.open_body(conn, sha256, self._blobs)

    def body_range(self, sha256: str, offset: int, length: int) -> bytes | None:
        stream = self.open_body(sha256)
        if stream is None:
            return None
        with stream:
            return read_range(stream, offset, length)

    def blob_references(self) -> set[str]:
        """Bodies kept in blob stores (by any host: a superset of this home's is safe to keep)."""
        with self._read() as conn:
            return _pg_bodies.blob_shas(conn)

    resolve_id = _reads(_pg_read.resolve_id)
    find_spans = _reads(_pg_read.find_spans)
    span_stats = _reads(_pg_read.span_stats)
    span_groups = _reads(_pg_read.span_groups)
    search = _reads(_pg_search.search)
