"""The rows one batch writes into SQLite, named: what ``_write`` builds per record.

NamedTuples where a row goes to ``executemany`` as is (a tuple, so no copy;
``SpanInsert``'s fields are the columns ``_write``'s span statements name), a
slotted dataclass for an open span, which its close (usually in the same batch)
completes in place.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from orca.store._ids import Key, key, key_or_none

# model, tool, input / output / cache-read / cache-write tokens, cost: only ever spread into
# a row's columns (``*genai_columns(attrs)``), in this order.
GenAIColumns = tuple[str | None, str | None, int | None, int | None, int | None, int | None,
                     float | None]  # fmt: skip


_NONE: Final[GenAIColumns] = (None, None, None, None, None, None, None)


def _int(value: object) -> int | None:
    return value if type(value) is int else None


def _num(value: object) -> float | None:
    return float(value) if type(value) in (int, float) else None  # type: ignore[arg-type]


def genai_columns(attrs: dict[str, Any] | None) -> GenAIColumns:
    """Model, tool, token counts and cost from a span's attributes (None where absent)."""
    if not attrs:
        return _NONE
    get = attrs.get
    model = get("gen_ai.request.model") or get("gen_ai.response.model")
    tool = get("gen_ai.tool.name")
    tokens_in = get("gen_ai.usage.input_tokens")
    if tokens_in is None and model is None and tool is None:
        return _NONE  # the common case of a span that is neither an LLM call nor a tool
    cache_write = get("gen_ai.usage.cache_write.input_tokens")
    if cache_write is None:
        cache_write = get("gen_ai.usage.cache_creation.input_tokens")
    return (
        model if type(model) is str else None,
        tool if type(tool) is str else None,
        _int(tokens_in),
        _int(get("gen_ai.usage.output_tokens")),
        _int(get("gen_ai.usage.cache_read.input_tokens")),
        _int(cache_write),
        _num(get("orca.cost.usd")),
    )


# Rows built per record are made with ``tuple.__new__(Row, (...))``: a NamedTuple's own
# constructor is a Python-level ``__new__`` (measured ~0.9 us for a 22-column row, against
# ~0.35 us this way), and the collector builds one per span.
new_row: Final = tuple.__new__


@dataclass(slots=True)
class TraceSeen:
    """A trace as this batch saw it: its earliest record and its conversation."""

    start_ns: int
    conversation_id: str | None


class SourceState(NamedTuple):
    """A source's row as a batch starts: its id, committed offset and writer."""

    id: int
    offset: int
    proc_id: int | None


class SpanInsert(NamedTuple):
    """A span's row: the columns ``_write`` inserts (or merges), in this order."""

    trace_id: Key
    span_id: Key
    parent_id: Key | None
    name: str
    component: str
    start_ns: int
    attrs: str | bytes | None  # JSON, or packed (see _attrs)
    request_body: Key | None  # stored sha256 (_ids.key: 32 bytes)
    request_body_bytes: int
    proc_id: int | None
    end_ns: int | None
    status: str
    response_body: Key | None
    response_body_bytes: int
    model: str | None
    tool: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: float | None
    chg: int


@dataclass(slots=True)
class OpenSpan:
    """A span-open record of this batch; its close, when in the same batch, fills the rest."""

    record: dict[str, Any]
    request_body: Key | None  # stored sha256 (_ids.key: 32 bytes)
    request_body_bytes: int
    proc_id: int | None
    end_ns: int | None = None
    status: str = "unfinished"
    close_attrs: dict[str, Any] | None = None
    response_body: Key | None = None
    response_body_bytes: int = 0

    def row(self, chg: int, dumps: Callable[[object], str | bytes | None]) -> SpanInsert:
        """The span's row: the open's attributes updated by the close's, as JSON."""
        rec = self.record
        attrs, more = rec.get("attrs"), self.close_attrs
        if more:
            attrs = {**attrs, **more} if attrs else more
        return new_row(
            SpanInsert,
            (
                key(rec["trace"]),
                key(rec["span"]),
                key_or_none(rec.get("parent")),
                rec["name"],
                rec["component"],
                rec["ts"],
                dumps(attrs),
                self.request_body,
                self.request_body_bytes,
                self.proc_id,
                self.end_ns,
                self.status,
                self.response_body,
                self.response_body_bytes,
                *genai_columns(attrs),
                chg,
            ),
        )


class LogInsert(NamedTuple):
    ts_ns: int
    level: str
    msg: str
    component: str
    trace_id: Key | None
    span_id: Key | None
    attrs: str | None  # JSON


class LinkInsert(NamedTuple):
    ts_ns: int
    trace_id: Key
    span_id: Key
    to_trace_id: Key
    to_span_id: Key
    reason: str | None
    attrs: str | None  # JSON
