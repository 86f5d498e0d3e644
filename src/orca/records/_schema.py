"""Types and constants of the record contract (version 1).

The JSON form is documented in ``docs/records.md``; golden files in
``tests/records/golden/`` pin its exact bytes. Field names are short because
every record pays for them on the hot path and on disk.
"""

from typing import Literal, NotRequired, TypedDict

VERSION = 1  # the contract version every record carries as ``v``; a newer one means upgrade

KINDS = ("log", "span-open", "span-close", "link", "proc")  # every record's ``kind``
LEVELS = ("debug", "info", "warn", "error")  # a log record's ``level``, least severe first
STATUSES = ("ok", "error")  # a span-close record's ``status``
# start: first record of a process's first segment; segment: first record of a
# rotated segment; heartbeat: the writer is alive; exit: clean shutdown.
PROC_EVENTS = ("start", "segment", "heartbeat", "exit")

Scalar = str | int | float | bool  # an attribute value: flat, never nested or None
Attrs = dict[str, Scalar]  # a record's ``attrs``: OpenTelemetry-style names to scalars


class _Base(TypedDict):
    v: int
    ts: int  # Unix nanoseconds
    component: str


class LogRecord(_Base):
    """A leveled message, inside a span (``trace`` and ``span``) or loose."""

    kind: Literal["log"]
    level: Literal["debug", "info", "warn", "error"]
    msg: str
    trace: NotRequired[str]
    span: NotRequired[str]
    attrs: NotRequired[Attrs]


class SpanOpenRecord(_Base):
    """Written when a span starts; ``body`` is the request side of a large payload."""

    kind: Literal["span-open"]
    trace: str
    span: str
    parent: NotRequired[str]
    name: str
    attrs: NotRequired[Attrs]
    body: NotRequired[str]
    body_enc: NotRequired[Literal["base64"]]


class SpanCloseRecord(_Base):
    """Written when a span ends; its ``attrs`` add to the open's (no close: unfinished)."""

    kind: Literal["span-close"]
    trace: str
    span: str
    status: Literal["ok", "error"]
    attrs: NotRequired[Attrs]
    body: NotRequired[str]
    body_enc: NotRequired[Literal["base64"]]


class LinkRecord(_Base):
    """A causal edge from one span to another, recorded at the hand-off moment."""

    kind: Literal["link"]
    trace: str
    span: str
    to_trace: str
    to_span: str
    reason: NotRequired[str]
    attrs: NotRequired[Attrs]


class ProcRecord(_Base):
    """The writer process itself: start, new segment, heartbeat, clean exit (crash = none)."""

    kind: Literal["proc"]
    event: Literal["start", "segment", "heartbeat", "exit"]
    pid: int
    # Process start time in clock ticks since boot (/proc/<pid>/stat field 22):
    # with the pid it names one process even after the pid is reused.
    pstart: NotRequired[int]
    host: NotRequired[str]
    argv: NotRequired[list[str]]
    version: NotRequired[str]
    seq: NotRequired[int]  # segment number, on start/segment
    dropped: NotRequired[int]  # records the writer dropped so far
    attrs: NotRequired[Attrs]


# Any one record: the JSON object of one journal line (docs/records.md).
Record = LogRecord | SpanOpenRecord | SpanCloseRecord | LinkRecord | ProcRecord
