"""Response models: the documented shapes in ``/openapi.json``.

Routes build their documents with ``orca.query`` (the CLI's ``--json``
functions) and return them directly; these models only *describe* them, and
the schemathesis test checks every answer against the description — so the
schema cannot drift from what the server really sends. Nested parts a page
renders as-is (attributes, findings) are left open (``extra="allow"``).
"""

from typing import Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict

ID_PATH = Path(description="A full id, a unique prefix (hex), or `last` for traces.", max_length=64)
ID_QUERY = Query(description="A full span/trace id or a unique prefix (hex).", max_length=64)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorDoc(BaseModel):
    """Every error answer: a stable code and a message saying what to do."""

    error: ErrorDetail


class TraceSummary(_Open):
    trace_id: str
    root_name: str | None
    root_span_id: str | None
    start_ns: int
    end_ns: int | None
    duration_ns: int | None
    span_count: int
    error_count: int
    status: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


class TraceList(BaseModel):
    traces: list[TraceSummary]


class SkeletonLine(_Open):
    span: str | None
    depth: int
    status: str
    text: str
    folded: int
    ledger: int | None


class SkeletonDoc(BaseModel):
    trace: TraceSummary
    lines: list[SkeletonLine]


class SpanDoc(BaseModel):
    span: dict[str, Any]
    attrs: dict[str, Any]
    links: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    bodies: list[dict[str, Any]]


class DiffDoc(_Open):
    a: str
    b: str
    body: str
    attrs: list[dict[str, Any]]
    duration_ns: dict[str, int | None]


class CheckDoc(_Open):
    name: str
    passed: bool
    verdict: str
    findings: list[dict[str, Any]]


class ChecksDoc(BaseModel):
    passed: bool
    checks: list[CheckDoc]
    traces: list[str]


class StatGroup(_Open):
    key: str | None
    count: int
    errors: int


class StatsDoc(BaseModel):
    by: str
    groups: list[StatGroup]


class ToolCostsDoc(BaseModel):
    tools: list[dict[str, Any]]


class SearchHit(BaseModel):
    trace_id: str | None
    span_id: str | None
    ts_ns: int
    where: str
    snippet: str


class SearchDoc(BaseModel):
    query: str
    hits: list[SearchHit]


class LedgerEntry(_Open):
    id: int
    ts: int
    kind: str
    hash: str


class Checkpoint(_Open):
    size: int
    root: str
    ts: int
    key: str


class ProofDoc(_Open):
    entry: int
    leaf_index: int
    tree_size: int
    root: str
    path: list[str]
    checkpoint: Checkpoint
    verified: bool


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


class RunDoc(_Open):
    id: str
    trace_id: str
    workflow: str
    status: str
    started_ms: int
    ended_ms: int | None


class RunList(BaseModel):
    runs: list[RunDoc]


class RunResultDoc(_Open):
    run: str
    status: str
    kind: str
    payload: Any = None
    envelope_id: str
    sender: str


class AckDoc(BaseModel):
    envelope_id: str
    run: str
    entry_id: int
    accepted_ms: int
    expires_ms: int
    queued: bool
    duplicate: bool


class TaskDoc(_Open):
    id: str
    run: str
    recipient: str
    attempt: int
    lease_until_ms: int


class TaskList(BaseModel):
    tasks: list[TaskDoc]


class LeaseDoc(BaseModel):
    task: str
    lease_until_ms: int


class RunSummary(_Open):
    id: str
    workflow: str
    status: str
    tasks: int
    attempts: int


class RunSummaries(BaseModel):
    runs: list[RunSummary]


class RunDetailDoc(_Open):
    run: RunSummary
    tasks: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    rejections: list[dict[str, Any]]
    governance: dict[str, Any]
