"""The rows the orchestrator hands out: runs, tasks and a run's result (frozen snapshots)."""

from dataclasses import dataclass
from typing import Any, Literal

from orca.orchestrator._envelope import Usage

RunStatus = Literal["open", "ok", "error", "cancelled"]
TaskStatus = Literal["pending", "leased", "completed", "dead_lettered", "expired", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "dead_lettered", "expired", "cancelled"})


@dataclass(frozen=True, slots=True)
class Run:
    """One workflow execution: a trace whose root span is the run's.

    ``id`` names it everywhere (ledger entries carry it as ``run``);
    ``trace_id`` is the trace that holds its spans.
    """

    id: str
    trace_id: str
    workflow: str
    status: RunStatus
    started_ms: int
    ended_ms: int | None
    root_span: str
    budget: Any = None
    metadata: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trace_id": self.trace_id,
            "workflow": self.workflow,
            "status": self.status,
            "started_ms": self.started_ms,
            "ended_ms": self.ended_ms,
            "root_span": self.root_span,
            "budget": self.budget,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class Task:
    """An accepted envelope on its way to ``recipient``: one delivery ``attempt`` of it.

    ``id`` is the envelope id (so a handler can make its side effects
    idempotent by keying them on it); ``attempt`` counts deliveries from 1;
    ``span_id`` is this delivery's span (``queue.deliver``) in ``trace_id``.
    """

    id: str
    run: str
    trace_id: str
    kind: str
    sender: str
    recipient: str
    payload: Any
    attempt: int
    lease_until_ms: int
    expires_ms: int
    span_id: str
    parent: str | None = None
    usage: Usage | None = None

    @property
    def envelope_id(self) -> str:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "envelope_id": self.id,
            "run": self.run,
            "trace_id": self.trace_id,
            "kind": self.kind,
            "sender": self.sender,
            "recipient": self.recipient,
            "payload": self.payload,
            "attempt": self.attempt,
            "lease_until_ms": self.lease_until_ms,
            "expires_ms": self.expires_ms,
            "span_id": self.span_id,
            "parent": self.parent,
            "usage": self.usage.to_dict() if self.usage else None,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    """A run's final answer: the last ``agent_result``/``agent_error`` sent to its caller."""

    run: str
    status: RunStatus
    kind: str
    payload: Any
    envelope_id: str
    sender: str

    @property
    def ok(self) -> bool:
        return self.kind == "agent_result"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "status": self.status,
            "kind": self.kind,
            "payload": self.payload,
            "envelope_id": self.envelope_id,
            "sender": self.sender,
        }
