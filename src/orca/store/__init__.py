"""The trace store: where the collector puts records and the query layer reads them."""

from orca.store._protocol import TraceReader
from orca.store._rows import (
    CRASH_SPAN_NAME,
    LinkRow,
    LogRow,
    SearchHit,
    SpanRow,
    TraceRows,
    TraceSummary,
)

__all__ = [
    "CRASH_SPAN_NAME",
    "LinkRow",
    "LogRow",
    "SearchHit",
    "SpanRow",
    "TraceReader",
    "TraceRows",
    "TraceSummary",
]
