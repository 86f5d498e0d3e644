"""The SQLite trace store: one WAL-mode file in the ORCA home.

A thin class: connection setup, migrations and transactions live here; the
SQL of each concern lives in its own module (``_write``, ``_read``, ``_fts``,
``_crash``, ``_retention``). One collector writes (it holds the home's lock);
any number of readers read concurrently, which WAL allows.
"""

import dataclasses
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from orca.blobs import BLOBS_DIR

if TYPE_CHECKING:
    from orca.blobs import BlobStore
from orca.store import (
    _aggregate,
    _attrs,
    _bodies,
    _compact,
    _crash,
    _fts,
    _ids,
    _ledger,
    _read,
    _retention,
    _search,
    _status,
)
from orca.store._batch import ApplyResult, Batch
from orca.store._errors import SchemaError, StoreError
from orca.store._ids import key
from orca.store._open import store_path
from orca.store._protocol import SpanStat
from orca.store._rows import (
    LedgerRow,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceSummary,
)
from orca.store._schema import MIGRATIONS, SCHEMA_VERSION
from orca.store._shared import read_range

BUSY_TIMEOUT_MS: Final = 30_000


class SQLiteStore:
    """Implements :class:`~orca.store.TraceStore`: the embedded default, one file per home."""

    engine: Literal["sqlite"] = "sqlite"

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool = False) -> None:
        self.path = path
        self.url = f"sqlite://{path.absolute()}"
        self.readonly = readonly
        self._conn = conn
        self._attrs = _attrs.register(conn)  # spans.attrs packed and read back (see _attrs)
        self._bases = _bodies.Bases()  # dictionaries for growing prompts (see _bodies)
        self._compactor = _compact.Compactor()
        self._blob_store: BlobStore | None = None
        self.blob_above = _bodies.BLOB_ABOVE  # bodies larger than this go to the blob store

    def blobs(self) -> "BlobStore":
        """The home's blob store (beside the store file), opened on first use.

        Created by the first body that needs it (the collector writes); a
        reader of a home without one gets a clear :class:`BlobError`.
        """
        if self._blob_store is None:
            home = self.path.parent
            # Made once; after that opened as is, so a read-only home reads its blobs.
            made = (home / BLOBS_DIR / "keys").is_dir()
            from orca.blobs import BlobStore  # the cipher loads with the first big body

            self._blob_store = BlobStore.open(home, create=not made)
        return self._blob_store

    @classmethod
    def open(
        cls,
        home_or_path: str | os.PathLike[str],
        *,
        create: bool = True,
        readonly: bool = False,
        handoff: bool = False,
    ) -> "SQLiteStore":
        """Open (and create or migrate) the store of a home, or a store file by path.

        ``readonly``: for a home this process cannot write (a read-only mount, a
        colleague's copy): nothing is created or migrated, and no write is tried.
        ``handoff`` lets one user at a time pass the connection between threads
        (the server opens it in one worker thread and answers in another).
        """
        path = store_path(home_or_path)
        if readonly:
            return cls._open_readonly(path)
        if not create and not path.exists():
            raise StoreError(
                f"no store at {path}; run `orca collect --once --home {path.parent}` to build it"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=not handoff,
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -131072")  # 128 MiB: keeps the span_id index hot
            conn.execute("PRAGMA temp_store = MEMORY")
            _fts.register(conn)  # the bodies' search-index trigger decodes in Python
            _ids.register(conn)  # the migrations to schemas 5 and 6 convert ids, hashes with it
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {path}: {exc}; {_hint(exc)}") from None
        store = cls(path, conn)
        try:
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SchemaError(
                f"{path} is not a readable ORCA store ({exc}); the journal is the source: "
                "move the file aside and rebuild it with `orca collect --once`"
            ) from None
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _open_readonly(cls, path: Path) -> "SQLiteStore":
        if not path.exists():
            raise StoreError(f"no store at {path}, and its home is not writable to build one")
        try:
            # mode=ro still needs the WAL index (-shm) writable; on a read-only file system
            # only immutable=1 opens, which is right there: nothing can write it either.
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, isolation_level=None)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read store {path} ({exc}); check its permissions") from None
        if version != SCHEMA_VERSION:
            conn.close()
            raise SchemaError(
                f"{path} has schema version {version}, this ORCA reads {SCHEMA_VERSION}; "
                "open it once from a writable home (orca collect --once) to migrate it"
            )
        return cls(path, conn, readonly=True)

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} has schema version {version}, newer than this ORCA reads "
                f"({SCHEMA_VERSION}); upgrade ORCA"
            )
        if version == SCHEMA_VERSION:
            return
        with self._txn():
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _txn(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken at once (IMMEDIATE) so it never fails half-way on a lock."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several statements see one consistent state."""
        conn = self._conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- write side -------------------------------------------------------------

    def apply(self, batch: Batch) -> ApplyResult:
        """Apply a batch and its offsets in one transaction; re-applying it changes nothing."""
        from orca.store._write import apply_batch

        with self._txn() as conn:
            return apply_batch(
                conn, batch, self._bases, self.blobs, self.blob_above, attrs_codec=self._attrs
            )

    def offsets(self) -> dict[str, int]:
        """Each source's committed offset (the first byte not yet ingested)."""
        return dict(self._conn.execute("SELECT name, offset FROM sources").fetchall())

    def attribute_crash(self, writer: str, *, detected_ns: int) -> list[SpanRow]:
        """Declare a writer dead: one synthetic crash span per trace it left spans open in."""
        with self._txn() as conn:
            return _crash.attribute(conn, writer, detected_ns)

    def retract_crash(self, writer: str) -> int:
        """Withdraw a writer's crash verdict (it wrote again); crash spans removed."""
        with self._txn() as conn:
            return _crash.retract(conn, writer)

    def mark_source_deleted(self, name: str, ts_ns: int) -> None:
        with self._txn() as conn:
            conn.execute("UPDATE sources SET deleted_ns = ? WHERE name = ?", (ts_ns, name))

    def pin(self, trace_id: str, pinned: bool = True) -> bool:
        """Pin (or unpin) a trace so retention keeps it and its bodies; False when unknown."""
        with self._txn() as conn:
            cur = conn.execute(
                "UPDATE traces SET pinned = ? WHERE trace_id = ?", (int(pinned), key(trace_id))
            )
            return cur.rowcount > 0

    def prune(
        self,
        policy: "_retention.RetentionPolicy | None" = None,
        *,
        now_ns: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> "_retention.PruneResult":
        """Apply retention (default :data:`DEFAULT_RETENTION`); roll-ups are kept first.

        What it deletes leaves the files: the search index forgets it (see
        ``_fts``), freed pages are zeroed and the WAL is truncated.
        """
        with self._scrubbing(), self._txn() as conn:
            before = _bodies.blob_shas(conn)
            result = _retention.prune(
                conn, policy or _retention.DEFAULT_RETENTION, now_ns=now_ns, progress=progress
            )
            dropped = before - _bodies.blob_shas(conn)
        return dataclasses.replace(result, blobs_deleted=self._delete_blobs(dropped))

    def _delete_blobs(self, shas: set[str]) -> int:
        """Delete the blobs of body rows a committed prune removed (unless re-added since)."""
        if not shas:
            return 0
        deleted = 0
        with self._snapshot() as conn:
            kept = _bodies.blob_shas(conn)
        for sha in sorted(shas - kept):
            deleted += self.blobs().delete(sha)
        return deleted

    def blob_references(self) -> set[str]:
        """The sha256 of every body the store keeps in the blob store (for ``orca blobs gc``)."""
        with self._snapshot() as conn:
            return _bodies.blob_shas(conn)

    @contextmanager
    def _scrubbing(self) -> Iterator[None]:
        """Deleted bytes are zeroed in the file (``secure_delete``), then the WAL is emptied.

        Off for ingest (it would cost every FTS merge extra writes); on for
        deletions that must not leave the text on disk. A reader holding an
        old snapshot keeps the WAL until the next scrub (checkpoint is best effort).
        """
        self._conn.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            self._conn.execute("PRAGMA secure_delete = OFF")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def rollups(self, *, since_day: str | None = None) -> list[_retention.Rollup]:
        """Daily aggregates of pruned spans (disjoint from the spans still stored)."""
        return _retention.read_rollups(self._conn, since_day)

    def catch_up_search(self, limit: int | None = None) -> int:
        """Index up to ``limit`` new rows per table (None: all); returns how many it indexed."""
        with self._txn() as conn:
            return _fts.catch_up(conn, limit)

    def compact(
        self,
        *,
        steps: int | None = None,
        chunk: int = _compact.CHUNK,
        step_ms: float | None = None,
    ) -> _compact.CompactResult:
        """Recompress bodies hard and merge the search index (see ``_compact``): one
        transaction a step (at most ``chunk`` bodies, and past ``step_ms`` no more),
        until nothing is left or ``steps`` steps ran (the collector runs one step per
        idle round, so ingest never waits long for it)."""
        total = _compact.CompactResult()
        done = 0
        while steps is None or done < steps:
            deadline = None if step_ms is None else time.monotonic() + step_ms / 1000
            with self._txn() as conn:
                step = self._compactor.step(
                    conn, self._bases.dicts, bodies=chunk, deadline=deadline
                )
            total += step
            done += 1
            if step.done:
                break
        return total

    def erase_ledger_payloads(self, entry_ids: list[int]) -> int:
        """Null the mirrored payload of entries the ledger erased (``forget``); rows changed."""
        conn = self._conn
        conn.execute("PRAGMA secure_delete = ON")  # overwrite the old payload's bytes with zeros
        try:
            with self._txn():
                changed = _ledger.erase(conn, entry_ids)
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        if changed:
            # The WAL still holds the page images from before the erase: fold them into the
            # database file (overwritten there) and truncate the WAL, so no copy stays on disk.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return changed

    def ledger_entries(
        self,
        *,
        run: str | None = None,
        trace: str | None = None,
        since_ns: int | None = None,
        limit: int | None = None,
    ) -> list[LedgerRow]:
        """Mirrored ledger entries in ledger order (oldest first), filtered as asked."""
        with self._snapshot() as conn:
            return _ledger.select(conn, run=run, trace=trace, since_ns=since_ns, limit=limit)

    # -- status -------------------------------------------------------------------

    def sources(self) -> list[_status.SourceRow]:
        return _status.sources(self._conn)

    def processes(self) -> list[_status.ProcessRow]:
        return _status.processes(self._conn)

    def quarantine(self, limit: int | None = None) -> list[_status.QuarantineRow]:
        return _status.quarantine(self._conn, limit)

    def totals(self) -> _status.StoreTotals:
        with self._snapshot() as conn:
            return _status.totals(conn, self.path)

    # -- read side (TraceReader) --------------------------------------------------

    def list_traces(
        self,
        *,
        limit: int | None = 20,
        since_ns: int | None = None,
        status: str | None = None,
        conversation: str | None = None,
        component: str | None = None,
    ) -> list[TraceSummary]:
        with self._snapshot() as conn:
            return _read.list_traces(
                conn,
                limit=limit,
                since_ns=since_ns,
                status=status,
                conversation=conversation,
                component=component,
            )

    def get_trace(self, trace_id: str) -> TraceRows | None:
        with self._snapshot() as conn:
            return _read.get_trace(conn, trace_id)

    def get_span(self, span_id: str) -> SpanRow | None:
        return _read.get_span(self._conn, span_id)

    def span_logs(self, span_id: str) -> list[LogRow]:
        with self._snapshot() as conn:
            return _read.span_logs(conn, span_id)

    def span_links(self, span_id: str) -> list[LinkRow]:
        with self._snapshot() as conn:
            return _read.span_links(conn, span_id)

    def get_body(self, sha256: str) -> bytes | None:
        with self._snapshot() as conn:
            return _bodies.load(conn, "sha256", sha256, self.blobs)

    def open_body(self, sha256: str) -> BinaryIO | None:
        """A body as a readable stream (blobs stream from disk); None when unknown or pruned.

        Readers that show a slice read only the slice: ``open_body(sha).read(4096)``.
        """
        with self._snapshot() as conn:
            return _bodies.open_body(conn, sha256, self.blobs)

    def body_range(self, sha256: str, offset: int, length: int) -> bytes | None:
        """``length`` bytes of a body from ``offset`` (fewer at its end), reading no more of a
        blob than that: what a paged slice needs. None when the body is unknown or pruned."""
        stream = self.open_body(sha256)
        if stream is None:
            return None
        with stream:
            return read_range(stream, offset, length)

    def resolve_id(self, prefix: str, kind: Literal["trace", "span"]) -> list[str]:
        return _read.resolve_id(self._conn, prefix, kind)

    def find_spans(
        self,
        *,
        name: str | None = None,
        since_ns: int | None = None,
        limit: int | None = None,
    ) -> Iterator[SpanRow]:
        return _read.find_spans(self._conn, name=name, since_ns=since_ns, limit=limit)

    def span_stats(
        self, *, group_by: str = "name", since_ns: int | None = None
    ) -> Iterator[SpanStat]:
        """One :class:`SpanStat` per span (key, duration, status, tokens, cost)."""
        return _read.span_stats(self._conn, group_by=group_by, since_ns=since_ns)

    def span_groups(
        self, *, group_by: str = "name", since_ns: int | None = None
    ) -> list[_aggregate.SpanGroup]:
        """Per-key counts, errors, p50/p95, tokens and cost, grouped in SQL (see _aggregate)."""
        with self._snapshot() as conn:
            return _aggregate.span_groups(conn, group_by=group_by, since_ns=since_ns)

    def search(
        self,
        text: str,
        *,
        where: Literal["attrs", "bodies", "logs"] | None = None,
        since_ns: int | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        # Reads what the collector has indexed (catch_up_search): the read path never writes.
        with self._snapshot() as conn:
            return _search.search(conn, text, where=where, since_ns=since_ns, limit=limit)


def _hint(exc: sqlite3.Error) -> str:
    """What to do about a store that will not open: damage is rebuilt from the journal."""
    text = str(exc)
    if any(w in text for w in ("not a database", "malformed", "corrupt")):
        return (
            "the journal is the source: move the file aside and rebuild it with "
            "`orca collect --once`"
        )
    return "check the path and its permissions"
