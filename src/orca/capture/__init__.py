"""Capture: the API agent code records through.

Pure record builders (:class:`Logger`, :class:`Span`) over an injected sink,
clock and id generator; :class:`Recorder` wires them to this process's journal.
Imports only the standard library, orjson and the journal: nothing here may
block on the network or pull in the store or server.
"""

from orca.capture._genai import (
    ToolCall,
    note_tool_requests,
    prompt_assembly,
    tool_call,
    tool_requester,
)
from orca.capture._ids import IdGenerator
from orca.capture._mask import MARK, mask, scrub_secrets
from orca.capture._recorder import DISABLE_ENV, Recorder
from orca.capture._sink import ListSink, Sink
from orca.capture._span import (
    NOOP_LOGGER,
    NOOP_SPAN,
    Logger,
    NoopLogger,
    NoopSpan,
    Span,
    SpanRef,
    current_span,
    flat_attrs,
    home_of,
)
from orca.capture._warn import safe_warn

__all__ = [
    "DISABLE_ENV",
    "MARK",
    "NOOP_LOGGER",
    "NOOP_SPAN",
    "IdGenerator",
    "ListSink",
    "Logger",
    "NoopLogger",
    "NoopSpan",
    "Recorder",
    "Sink",
    "Span",
    "SpanRef",
    "ToolCall",
    "current_span",
    "flat_attrs",
    "home_of",
    "mask",
    "note_tool_requests",
    "prompt_assembly",
    "safe_warn",
    "scrub_secrets",
    "tool_call",
    "tool_requester",
]
