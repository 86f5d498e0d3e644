"""Output schemas of the MCP tools: what ``structuredContent`` promises a client.

Typed where an agent branches on a field (counts, verdicts, cursors); nested
records keep the CLI's ``--json`` shapes (docs/query.md) as open objects, so
one documentation serves both.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")

    more: str | None = None
    """How to get what the bound left out; None when nothing was cut."""


class TraceList(_Out):
    count: int
    shown: int
    traces: list[dict[str, Any]]


class SkeletonLine(BaseModel):
    span: str | None
    depth: int
    status: str
    text: str
    folded: int
    ledger: int | None


class SkeletonOut(_Out):
    trace: dict[str, Any]
    total_lines: int
    lines: list[SkeletonLine]


class BodyRef(BaseModel):
    which: str
    bytes: int
    uri: str


class BodySliceOut(BaseModel):
    which: str
    offset: int
    bytes: int
    total: int
    next_offset: int | None
    text: str
    uri: str


class SpanOut(_Out):
    span: dict[str, Any]
    attrs: dict[str, Any]
    attrs_left_out: int
    links: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    logs_left_out: int
    bodies: list[BodyRef]
    slice: BodySliceOut | None


class DiffOut(_Out):
    a: str
    b: str
    mode: str
    body: str
    diff: dict[str, Any]
    attrs: list[dict[str, Any]]
    attrs_left_out: int


class Verdict(BaseModel):
    name: str
    passed: bool
    verdict: str


class CheckOut(_Out):
    passed: bool
    traces: list[str]
    verdicts: list[Verdict]
    findings: list[dict[str, Any]]
    findings_left_out: int


class StatsOut(_Out):
    by: str
    groups: list[dict[str, Any]]


class SearchOut(_Out):
    query: str
    hits: list[dict[str, Any]]


class LedgerOut(_Out):
    count: int
    entries: list[dict[str, Any]]


class MemoryOut(_Out):
    count: int
    items: list[dict[str, Any]]


class VerifyOut(_Out):
    ok: bool
    entries: int


class RunsOut(_Out):
    count: int
    runs: list[dict[str, Any]]


class RunOut(_Out):
    run: dict[str, Any]
    tasks: list[dict[str, Any]]
    tasks_left_out: int
    governance: dict[str, Any]
