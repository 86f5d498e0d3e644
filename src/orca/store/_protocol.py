"""The store protocols: ``TraceReader`` (the read side) and ``TraceStore`` (read + write).

The query layer depends on :class:`TraceReader` only; the collector, ``orca
run``'s drain and the CLI on :class:`TraceStore`, and they get one from
:func:`orca.store.open_store`, never from a class. Every backend (SQLite,
PostgreSQL) passes the same contract suite (``tests/contract/``). The read
methods never write: keeping the search index current is the collector's
chore (:meth:`TraceStore.catch_up_search`), so a reader needs no write lock.
"""

from collections.abc import Callable, Iterator
from typing import BinaryIO, Literal, NamedTuple, Protocol, Self

from orca.store._aggregate import SpanGroup
from orca.store._batch import ApplyResult, Batch
from orca.store._retention import PruneResult, RetentionPolicy, Rollup
from orca.store._rows import (
    LedgerRow,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceSummary,
)
from orca.store._status import ProcessRow, QuarantineRow, SourceRow, StoreTotals


class SpanStat(NamedTuple):
    """One span as the stats scan yields it (missing numbers are 0)."""

    key: str | None  # the group key's value, None when the span has none
    duration_ns: int | None  # None when unfinished
    status: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost: float


StatTuple = SpanStat  # the earlier name


class TraceReader(Protocol):
    """The read side of a store, what the query layer uses: no method writes (no write lock)."""

    def list_traces(
        self,
        *,
        limit: int | None = 20,
        since_ns: int | None = None,
        status: str | None = None,
        conversation: str | None = None,
        component: str | None = None,
    ) -> list[TraceSummary]:
        """Traces newest first (by start), filtered as asked (``component``: the root's)."""
        ...

    def get_trace(self, trace_id: str) -> TraceRows | None:
        """One trace in full, or None when unknown."""
        ...

    def get_span(self, span_id: str) -> SpanRow | None: ...

    def span_logs(self, span_id: str) -> list[LogRow]:
        """Log records inside one span, oldest first."""
        ...

    def span_links(self, span_id: str) -> list[LinkRow]:
        """Links from and to one span."""
        ...

    def get_body(self, sha256: str) -> bytes | None:
        """A body's original bytes (decompressed), or None when unknown or pruned."""
        ...

    def open_body(self, sha256: str) -> BinaryIO | None:
        """A body as a readable stream (large ones stream from the blob store), or None."""
        ...

    def body_range(self, sha256: str, offset: int, length: int) -> bytes | None:
        """``length`` bytes of a body from ``offset``, reading no more than needed, or None."""
        ...

    def resolve_id(self, prefix: str, kind: Literal["trace", "span"]) -> list[str]:
        """Full ids starting with ``prefix`` (at most 2: enough to tell unique from ambiguous)."""
        ...

    def find_spans(
        self,
        *,
        name: str | None = None,
        since_ns: int | None = None,
        limit: int | None = None,
    ) -> Iterator[SpanRow]:
        """Spans (any trace) by name and start time, oldest first."""
        ...

    def search(
        self,
        text: str,
        *,
        where: Literal["attrs", "bodies", "logs"] | None = None,
        since_ns: int | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Full-text matches newest first."""
        ...

    def span_stats(
        self, *, group_by: str = "name", since_ns: int | None = None
    ) -> Iterator[SpanStat]:
        """Every span since ``since_ns`` (by start) as a :class:`SpanStat`, in no set order.

        ``group_by`` picks the key: ``name``, ``model`` (``gen_ai.request.model``,
        else ``gen_ai.response.model``), ``component`` or ``tool`` (``gen_ai.tool.name``);
        the key is None when the span has no such value. Columns are stored
        pre-extracted at ingest, so a scan of 1M spans needs no JSON parsing.
        Spans already pruned are not included; their daily aggregates are in
        ``SQLiteStore.rollups()``.
        """
        ...

    def span_groups(
        self, *, group_by: str = "name", since_ns: int | None = None
    ) -> list[SpanGroup]:
        """Spans since ``since_ns`` grouped by ``group_by`` (the keys of :meth:`span_stats`).

        Per key: count, errors, unfinished, how many closed, nearest-rank p50/p95
        duration of the closed ones, token and cost sums; in key order, spans
        with no key left out. The same numbers as grouping :meth:`span_stats` in
        Python, computed where the data is (``orca stats`` over 1M spans in
        well under a second).
        """
        ...

    def ledger_entries(
        self,
        *,
        run: str | None = None,
        trace: str | None = None,
        since_ns: int | None = None,
        limit: int | None = None,
    ) -> list[LedgerRow]:
        """Governed actions the collector mirrored from the ledger, oldest first, as asked."""
        ...


class TraceStore(TraceReader, Protocol):
    """A store the collector writes: :class:`TraceReader` plus the write side.

    ``url`` names the store with any password masked (what ``orca status``
    shows). Offsets, sources and writer processes are those of the store's
    *origin* (the host and home a collector tails): many collectors share one
    PostgreSQL database and each sees only its own, while traces, spans and
    bodies are shared. An SQLite store has one origin, its home.
    """

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        ...

    @property
    def engine(self) -> Literal["sqlite", "postgresql"]: ...

    def apply(self, batch: Batch) -> ApplyResult:
        """Apply a batch and its new offsets in one transaction; re-applying changes nothing."""
        ...

    def offsets(self) -> dict[str, int]:
        """Each source's committed offset (the first byte not yet ingested)."""
        ...

    def attribute_crash(self, writer: str, *, detected_ns: int) -> list[SpanRow]:
        """Declare a writer dead: one synthetic crash span per trace it left spans open in."""
        ...

    def retract_crash(self, writer: str) -> int:
        """Withdraw a writer's crash verdict (it wrote again); how many crash spans went."""
        ...

    def mark_source_deleted(self, name: str, ts_ns: int) -> None:
        """Note that the collector removed a fully ingested journal segment."""
        ...

    def pin(self, trace_id: str, pinned: bool = True) -> bool:
        """Pin (or unpin) a trace so retention keeps it; False when unknown."""
        ...

    def prune(
        self,
        policy: RetentionPolicy | None = None,
        *,
        now_ns: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> PruneResult:
        """Apply retention; daily roll-ups are written before spans go."""
        ...

    def rollups(self, *, since_day: str | None = None) -> list[Rollup]:
        """Daily aggregates of pruned spans."""
        ...

    def catch_up_search(self, limit: int | None = None) -> int:
        """Index rows written since the last call (at most ``limit`` per table); how many."""
        ...

    def erase_ledger_payloads(self, entry_ids: list[int]) -> int:
        """Null the mirrored payload of entries the ledger erased (``forget``); rows changed."""
        ...

    def sources(self) -> list[SourceRow]:
        """This origin's sources (journal segments and the ledger)."""
        ...

    def processes(self) -> list[ProcessRow]:
        """This origin's writer processes."""
        ...

    def quarantine(self, limit: int | None = None) -> list[QuarantineRow]:
        """This origin's quarantined lines."""
        ...

    def totals(self) -> StoreTotals:
        """Counts and sizes of the whole store."""
        ...

    def blob_references(self) -> set[str]:
        """The sha256 of every body kept in the home's blob store (``orca blobs gc``)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
