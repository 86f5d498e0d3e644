"""The trace store: where the collector puts records and the query layer reads them.

``open_store(url_or_home)`` is the one factory: a WAL-mode SQLite file
(``sqlite:///…``, default ``<home>/store.sqlite``) or a PostgreSQL database
(``postgresql://…``) that many hosts' collectors share. Both implement
:class:`TraceStore`: the read side :class:`TraceReader` plus the write side
(``apply`` a :class:`Batch`, ``attribute_crash``, ``prune``, ``pin``,
``catch_up_search``) that the collector and the CLI use. The ``ledger``
table mirrors the ledger's signed entries (``Batch.ledger``; read back by
``get_trace`` and ``ledger_entries``).
"""

from orca.store._aggregate import SpanGroup
from orca.store._batch import ApplyResult, Batch, Item, LedgerItem, Quarantine
from orca.store._compact import CompactResult
from orca.store._console import SqlResult, run_sql
from orca.store._crash import crash_span_id
from orca.store._errors import SchemaError, StoreError
from orca.store._migrate import MigrateResult, migrate
from orca.store._open import (
    STORE_ENV,
    STORE_FILE,
    StoreLocation,
    locate_store,
    mask_url,
    open_location,
    open_store,
    parse_url,
    store_exists,
    store_path,
)
from orca.store._protocol import SpanStat, StatTuple, TraceReader, TraceStore
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
from orca.store._sqlite import SQLiteStore
from orca.store._status import ProcessRow, QuarantineRow, SourceRow, StoreTotals
from orca.store._write import items_from

__all__ = [
    "CRASH_SPAN_NAME",
    "DEFAULT_RETENTION",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "STORE_FILE",
    "ApplyResult",
    "Batch",
    "CompactResult",
    "Item",
    "LedgerItem",
    "LedgerRow",
    "LinkRow",
    "LogRow",
    "MigrateResult",
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
    "SpanStat",
    "SqlResult",
    "StatTuple",
    "StoreError",
    "StoreLocation",
    "StoreTotals",
    "TraceReader",
    "TraceRows",
    "TraceStore",
    "TraceSummary",
    "crash_span_id",
    "items_from",
    "locate_store",
    "mask_url",
    "migrate",
    "open_location",
    "open_store",
    "parse_url",
    "run_sql",
    "store_exists",
    "store_path",
]
