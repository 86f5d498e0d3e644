"""The orchestrator under ``/api/v1``: runs, envelopes, remote workers, results.

Each route is one call on the :class:`~orca.orchestrator.Orchestrator` this
server holds, with the arguments it takes and the ``to_dict()`` of what it
returns; its exceptions carry stable codes that ``_responses`` maps to
statuses (and ``orca.Client`` maps back). Bodies are plain JSON objects: the
orchestrator validates envelopes itself, so even a malformed envelope is
recorded as a rejection in the ledger, exactly as in process. The calls
block on the ledger's fsync, so the routes are sync (run on the thread pool).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from orca.server import _models as m
from orca.server._errors import NoOrchestrator
from orca.server._responses import JSONOut

router = APIRouter(prefix="/api/v1", tags=["orchestrator"])
NAME_MAX = 200  # the orchestrator's bound on run, agent and workflow names and envelope ids
Name = Annotated[str, Path(min_length=1, max_length=NAME_MAX)]
# Task ids are envelope ids, chosen by clients: they may hold "/" (sent as %2F), hence :path.
TaskId = Annotated[str, Path(min_length=1, max_length=NAME_MAX)]


def orch(request: Request) -> Any:
    """The orchestrator this app serves (503 not-ready when it has none)."""
    o = request.app.state.config.orchestrator
    if o is None:
        raise NoOrchestrator("this server runs without an orchestrator; start it with orca up")
    return o


@contextmanager
def appending(request: Request, op: str) -> Iterator[Any]:
    """The orchestrator, with the call's time observed as ``orca_ledger_append_seconds{op}``."""
    o = orch(request)
    start = time.perf_counter()
    try:
        yield o
    finally:
        request.app.state.http_metrics.ledger_append.labels(op).observe(time.perf_counter() - start)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunIn(_In):
    workflow: str = Field(min_length=1, max_length=NAME_MAX)
    budget: Any = None
    metadata: dict[str, Any] | None = None


class EndIn(_In):
    status: Literal["ok", "error", "cancelled"] = "ok"


class ClaimIn(_In):
    lease_ms: int | None = Field(default=None, ge=1, le=86_400_000)
    max_tasks: int = Field(default=1, ge=1, le=1000)
    worker: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)


class HeartbeatIn(_In):
    attempt: int | None = Field(default=None, ge=1)
    lease_ms: int | None = Field(default=None, ge=1, le=86_400_000)


class UsageIn(BaseModel):
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cost_usd: float | None = Field(default=None, ge=0)


class CompleteIn(_In):
    result: Any = None
    usage: UsageIn | None = None
    attempt: int | None = Field(default=None, ge=1)


class FailIn(_In):
    error: str = Field(max_length=65_536)
    retryable: bool = True
    attempt: int | None = Field(default=None, ge=1)


_NAME = {"type": "string", "minLength": 1, "maxLength": NAME_MAX}
_COUNT = {"type": "integer", "minimum": 0}
# The envelope as Orchestrator.submit takes it, written out for the schema (the orchestrator
# validates it itself, so a refusal is recorded in the ledger exactly as in process). Also
# accepted, undocumented here: `retry`, a per-envelope retry policy override.
ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "Envelope",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "run", "kind", "sender"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
        "run": _NAME,
        "kind": {"enum": ["agent_task", "agent_result", "agent_error"]},
        "sender": _NAME,
        "recipient": {"anyOf": [_NAME, {"type": "null"}]},
        "payload": {},
        "ttl_ms": {"type": "integer", "minimum": 1, "maximum": 2**53},
        "protocol_version": {"enum": [1]},
        "usage": {
            "anyOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "input_tokens": _COUNT,
                        "output_tokens": _COUNT,
                        "cost_usd": {"type": "number", "minimum": 0},
                    },
                },
                {"type": "null"},
            ]
        },
        "parent": {"anyOf": [{"type": "string", "pattern": "^[0-9a-f]{16}$"}, {"type": "null"}]},
        "created_ms": {
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**53}, {"type": "null"}]
        },
    },
    # A task goes to an agent; a result or error may go to the run's caller (no recipient).
    "if": {"properties": {"kind": {"const": "agent_task"}}},
    "then": {"required": ["recipient"], "properties": {"recipient": _NAME}},
}


@router.post("/runs", status_code=201, response_model=m.RunDoc, summary="Start a run")
def start_run(request: Request, body: RunIn) -> JSONOut:
    with appending(request, "start_run") as o:
        run = o.start_run(body.workflow, budget=body.budget, metadata=body.metadata)
    return JSONOut(run.to_dict(), status_code=201)


@router.get("/runs", response_model=m.RunList, summary="Runs, newest first")
def runs(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONOut:
    return JSONOut({"runs": [r.to_dict() for r in orch(request).runs()[:limit]]})


@router.get("/runs/{run_id}", response_model=m.RunDoc, summary="One run")
def get_run(request: Request, run_id: Name) -> JSONOut:
    return JSONOut(orch(request).get_run(run_id).to_dict())


@router.post("/runs/{run_id}/end", response_model=m.RunDoc, summary="End a run")
def end_run(request: Request, run_id: Name, body: EndIn | None = None) -> JSONOut:
    status = body.status if body is not None else "ok"
    with appending(request, "end_run") as o:
        return JSONOut(o.end_run(run_id, status).to_dict())


@router.get("/runs/{run_id}/result", response_model=m.RunResultDoc, summary="A run's result")
def result(
    request: Request,
    run_id: Name,
    wait: Annotated[float | None, Query(ge=0, le=60, description="Seconds to wait.")] = None,
) -> JSONOut:
    """The final ``agent_result``/``agent_error`` payload; 409 ``run-not-finished`` until then."""
    return JSONOut(orch(request).fetch_result(run_id, wait=wait).to_dict())


@router.post(
    "/envelopes",
    response_model=m.AckDoc,
    status_code=201,
    summary="Submit an envelope",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ENVELOPE_SCHEMA}},
        }
    },
)
def submit(request: Request, envelope: Annotated[dict[str, Any], Body()]) -> JSONOut:
    """201 with the ``Ack``; a resend of the same envelope is 200 with ``duplicate: true``."""
    with appending(request, "submit") as o:
        ack = o.submit(envelope)
    return JSONOut(ack.to_dict(), status_code=200 if ack.duplicate else 201)


@router.post("/agents/{agent:path}/claim", response_model=m.TaskList, summary="Lease tasks")
def claim(request: Request, agent: Name, body: ClaimIn | None = None) -> JSONOut:
    b = body or ClaimIn()
    with appending(request, "claim") as o:
        tasks = o.claim(agent, lease_ms=b.lease_ms, max_tasks=b.max_tasks, worker=b.worker)
    return JSONOut({"tasks": [t.to_dict() for t in tasks]})


@router.post("/tasks/{task_id:path}/heartbeat", response_model=m.LeaseDoc, summary="Extend a lease")
def heartbeat(request: Request, task_id: TaskId, body: HeartbeatIn | None = None) -> JSONOut:
    b = body or HeartbeatIn()
    with appending(request, "heartbeat") as o:
        until = o.heartbeat(task_id, attempt=b.attempt, lease_ms=b.lease_ms)
    return JSONOut({"task": task_id, "lease_until_ms": until})


@router.post("/tasks/{task_id:path}/complete", response_model=m.LedgerEntry, summary="Complete")
def complete(request: Request, task_id: TaskId, body: CompleteIn | None = None) -> JSONOut:
    b = body or CompleteIn()
    usage = b.usage.model_dump(exclude_none=True) if b.usage is not None else None
    with appending(request, "complete") as o:
        entry = o.complete(task_id, b.result, usage=usage, attempt=b.attempt)
    return JSONOut(entry.to_dict())


@router.post("/tasks/{task_id:path}/fail", response_model=m.LedgerEntry, summary="Fail an attempt")
def fail(request: Request, task_id: TaskId, body: FailIn) -> JSONOut:
    with appending(request, "fail") as o:
        entry = o.fail(task_id, body.error, retryable=body.retryable, attempt=body.attempt)
    return JSONOut(entry.to_dict())
