"""The ``TraceStore`` protocol, read side.

The query layer and the CLI depend on these methods only. The write side
(applying a batch of records with offsets, pruning, pinning) is declared by
the implementation's room next to it. Every backend (SQLite now, PostgreSQL
later) passes the same contract tests.
"""

from collections.abc import Iterator
from typing import BinaryIO, Literal, Protocol

from orca.store._aggregate import SpanGroup
from orca.store._rows import (
    LedgerRow,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceSummary,
)

# One span as the stats scan yields it:
# (group key, duration_ns or None when unfinished, status, input tokens, output tokens,
#  cache read tokens, cost in USD). Missing numbers are 0.
StatTuple = tuple[str | None, int | None, str, int, int, int, float]


class TraceReader(Protocol):
    def list_traces(
        self,
        *,
        limit: int | None = 20,
        since_ns: int | None = None,
        status: str | None = None,
        conversation: str | None = None,
    ) -> list[TraceSummary]:
        """Traces newest first (by start), filtered as asked."""
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
    ) -> Iterator[StatTuple]:
        """Every span since ``since_ns`` (by start) as a :data:`StatTuple`, in no set order.

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
