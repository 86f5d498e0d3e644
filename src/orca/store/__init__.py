"""The trace store: where the collector puts records and the query layer reads them.

``SQLiteStore.open(home_or_path)`` (or ``open_store(home)``) gives the one
implementation so far: a WAL-mode SQLite file ``<home>/store.sqlite``. The read
side is the :class:`TraceReader` protocol; the write side (``apply`` a
:class:`Batch`, ``attribute_crash``, ``prune``, ``pin``) is what the collector
and the CLI use. The ``ledger`` table mirrors the ledger's signed entries
(``Batch.ledger``; read back by ``get_trace`` and ``ledger_entries``).
"""

from orca.store._aggregate import SpanGroup
from orca.store._batch import ApplyResult, Batch, Item, LedgerItem, Quarantine
from orca.store._crash import crash_span_id
from orca.store._errors import SchemaError, StoreError
from orca.store._protocol import StatTuple, TraceReader
from orca.store._retention import DEFAULT_RETENTION, PruneResult, RetentionPolicy, Rollup
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LedgerRow,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceSummary,
)
from orca.store._schema import SCHEMA_VERSION
from orca.store._sqlite import STORE_FILE, SQLiteStore, open_store, store_path
from orca.store._status import ProcessRow, QuarantineRow, SourceRow, StoreTotals
from orca.store._write import items_from

__all__ = [
    "CRASH_SPAN_NAME",
    "DEFAULT_RETENTION",
    "SCHEMA_VERSION",
    "STORE_FILE",
    "ApplyResult",
    "Batch",
    "Item",
    "LedgerItem",
    "LedgerRow",
    "LinkRow",
    "LogRow",
    "ProcessRow",
    "PruneResult",
    "Quarantine",
    "QuarantineRow",
    "RetentionPolicy",
    "Rollup",
    "SQLiteStore",
    "SchemaError",
    "SearchHit",
    "SourceRow",
    "SpanGroup",
    "SpanRow",
    "StatTuple",
    "StoreError",
    "StoreTotals",
    "TraceReader",
    "TraceRows",
    "TraceSummary",
    "crash_span_id",
    "items_from",
    "open_store",
    "store_path",
]
