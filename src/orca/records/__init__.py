"""The record contract: the one shape every room agrees on.

A record is a plain ``dict`` (one JSON object per journal line). Plain dicts
keep the hot path free of object construction; this package gives them types
(``TypedDict``), a version, validation with messages that name the field, and
the canonical byte form. It imports nothing of orca and nothing heavy.
"""

from orca.records._errors import RecordError
from orca.records._schema import (
    KINDS,
    LEVELS,
    PROC_EVENTS,
    STATUSES,
    VERSION,
    Attrs,
    LinkRecord,
    LogRecord,
    ProcRecord,
    Record,
    Scalar,
    SpanCloseRecord,
    SpanOpenRecord,
)
from orca.records._serial import dumps, loads
from orca.records._validate import is_span_id, is_trace_id, validate

__all__ = [
    "KINDS",
    "LEVELS",
    "PROC_EVENTS",
    "STATUSES",
    "VERSION",
    "Attrs",
    "LinkRecord",
    "LogRecord",
    "ProcRecord",
    "Record",
    "RecordError",
    "Scalar",
    "SpanCloseRecord",
    "SpanOpenRecord",
    "dumps",
    "is_span_id",
    "is_trace_id",
    "loads",
    "validate",
]
