"""The rows one batch writes into SQLite, named: what ``_write`` builds per record.

NamedTuples where a row goes to ``executemany`` as is (a tuple, so no copy),
a slotted dataclass for an open span, which its close (usually in the same
batch) completes in place. Fields are in the order of the statement's ``?``
placeholders, which the statements in ``_write`` spell out beside them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple


class GenAIColumns(NamedTuple):
    """The span columns pre-extracted from GenAI attributes (what stats read)."""

    model: str | None
    tool: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: float | None


_NONE: Final = GenAIColumns(None, None, None, None, None, None, None)


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
    return GenAIColumns(
        model if type(model) is str else None,
        tool if type(tool) is str else None,
        _int(tokens_in),
        _int(get("gen_ai.usage.output_tokens")),
        _int(get("gen_ai.usage.cache_read.input_tokens")),
        _int(cache_write),
        _num(get("orca.cost.usd")),
    )


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
    """The parameters of ``_OPEN_SQL`` (a span's row) in its column order."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    component: str
    start_ns: int
    attrs: str | None  # JSON
    request_body: str | None
    request_body_bytes: int
    proc_id: int | None
    end_ns: int | None
    status: str
    response_body: str | None
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
    """A span-open of this batch; its close, when in the same batch, fills the last five."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    component: str
    start_ns: int
    attrs: dict[str, Any] | None
    request_body: str | None
    request_body_bytes: int
    proc_id: int | None
    end_ns: int | None = None
    status: str = "unfinished"
    close_attrs: dict[str, Any] | None = None
    response_body: str | None = None
    response_body_bytes: int = 0

    def row(self, chg: int, dumps: Callable[[object], str | None]) -> SpanInsert:
        """The span's row: the open's attributes updated by the close's, as JSON."""
        attrs, more = self.attrs, self.close_attrs
        if more:
            attrs = {**attrs, **more} if attrs else more
        return SpanInsert(
            self.trace_id,
            self.span_id,
            self.parent_id,
            self.name,
            self.component,
            self.start_ns,
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
        )


class CloseInsert(NamedTuple):
    """The parameters of ``_CLOSE_SQL``: a close whose open is not in this batch."""

    trace_id: str
    span_id: str
    component: str
    start_ns: int  # the close's time: a placeholder until the open arrives
    end_ns: int
    status: str
    attrs: str | None  # JSON
    response_body: str | None
    response_body_bytes: int
    proc_id: int | None
    model: str | None
    tool: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: float | None
    chg: int


class LogInsert(NamedTuple):
    ts_ns: int
    level: str
    msg: str
    component: str
    trace_id: str | None
    span_id: str | None
    attrs: str | None  # JSON


class LinkInsert(NamedTuple):
    ts_ns: int
    trace_id: str
    span_id: str
    to_trace_id: str
    to_span_id: str
    reason: str | None
    attrs: str | None  # JSON
