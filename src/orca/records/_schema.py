"""Types and constants of the record contract (version 1).

The JSON form is documented in ``docs/records.md``; golden files in
``tests/records/golden/`` pin its exact bytes. Field names are short because
every record pays for them on the hot path and on disk.
"""

from typing import Literal, NotRequired, TypedDict

VERSION = 1

KINDS = ("log", "span-open", "span-close", "link", "proc")
LEVELS = ("debug", "info", "warn", "error")
STATUSES = ("ok", "error")
# start: first record of a process's first segment; segment: first record of a
# rotated segment; heartbeat: the writer is alive; exit: clean shutdown.
PROC_EVENTS = ("start", "segment", "heartbeat", "exit")

Scalar = str | int | float | bool
Attrs = dict[str, Scalar]


class _Base(TypedDict):
    v: int
    ts: int  # Unix nanoseconds
    component: str


class LogRecord(_Base):
    kind: Literal["log"]
    level: Literal["debug", "info", "warn", "error"]
    msg: str
    trace: NotRequired[str]
    span: NotRequired[str]
    attrs: NotRequired[Attrs]


class SpanOpenRecord(_Base):
    kind: Literal["span-open"]
    trace: str
    span: str
    parent: NotRequired[str]
    name: str
    attrs: NotRequired[Attrs]
    body: NotRequired[str]
    body_enc: NotRequired[Literal["base64"]]


class SpanCloseRecord(_Base):
    kind: Literal["span-close"]
    trace: str
    span: str
    status: Literal["ok", "error"]
    attrs: NotRequired[Attrs]
    body: NotRequired[str]
    body_enc: NotRequired[Literal["base64"]]


class LinkRecord(_Base):
    kind: Literal["link"]
    trace: str
    span: str
    to_trace: str
    to_span: str
    reason: NotRequired[str]
    attrs: NotRequired[Attrs]


class ProcRecord(_Base):
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


Record = LogRecord | SpanOpenRecord | SpanCloseRecord | LinkRecord | ProcRecord
