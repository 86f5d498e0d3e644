"""Read-side rows: what the store hands to the query layer.

These are the contract between ``orca.store`` (which fills them) and
``orca.query`` (pure functions over them). Plain frozen dataclasses: cheap to
build by hand in query tests, no I/O, no store needed.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

Scalar = str | int | float | bool
SpanStatus = Literal["ok", "error", "unfinished"]
TraceStatus = Literal["ok", "error", "unfinished", "crashed"]

# The synthetic span the collector writes when a writer process died mid-turn.
CRASH_SPAN_NAME = "process.lifecycle"


@dataclass(frozen=True, slots=True)
class SpanRow:
    """One span: its open and close records merged.

    ``end_ns`` is None and ``status`` is ``"unfinished"`` when no close record
    was seen (the writer crashed, or the span is still running). ``attrs`` are
    the open record's attributes updated by the close record's. Bodies are
    referenced by sha256 (``request_body`` from the open record, ``response_body``
    from the close record) and fetched with ``TraceStore.get_body``.
    ``synthetic`` marks spans the collector wrote itself (crash attribution).
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    component: str
    start_ns: int
    end_ns: int | None
    status: SpanStatus
    attrs: dict[str, Scalar] = field(default_factory=dict)
    request_body: str | None = None
    response_body: str | None = None
    request_body_bytes: int = 0
    response_body_bytes: int = 0
    pid: int | None = None
    synthetic: bool = False

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class LogRow:
    """One stored log record; ``trace_id``/``span_id`` name its span, None for a loose one."""

    ts_ns: int
    level: str
    msg: str
    component: str
    trace_id: str | None = None
    span_id: str | None = None
    attrs: dict[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LinkRow:
    """A causal edge from (trace_id, span_id) to (to_trace_id, to_span_id)."""

    ts_ns: int
    trace_id: str
    span_id: str
    to_trace_id: str
    to_span_id: str
    reason: str | None = None
    attrs: dict[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One governed action mirrored from the ledger (the ledger itself stays the ground truth).

    ``trace_id``/``span_id`` place it in a trace; ``args``/``result``/``meta`` are
    None and ``erased`` True once ``forget`` removed the payload (the commitment,
    ``payload_hash``, stays). ``signature``/``key_id`` name the batch signature
    that covers it (its provenance).
    """

    id: int
    ts_ns: int
    kind: str
    run: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    actor: str | None = None
    prev: str = ""
    hash: str = ""
    payload_hash: str = ""
    args: Any = None
    result: Any = None
    meta: Any = None
    erased: bool = False
    signature: str | None = None
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One line of ``orca traces``: a trace seen from its root span and its totals."""

    trace_id: str
    root_name: str
    root_span_id: str | None
    component: str
    start_ns: int
    end_ns: int | None
    span_count: int
    error_count: int
    unfinished_count: int
    status: TraceStatus
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float = 0.0
    conversation_id: str | None = None
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class TraceRows:
    """Everything recorded for one trace, spans in start order, ledger entries by id."""

    summary: TraceSummary
    spans: list[SpanRow]
    logs: list[LogRow]
    links: list[LinkRow]
    ledger: list[LedgerRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One full-text match: where it was found and a short snippet with the match marked."""

    trace_id: str | None
    span_id: str | None
    ts_ns: int
    where: Literal["attrs", "bodies", "logs"]
    snippet: str
