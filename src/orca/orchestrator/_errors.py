"""Errors of the orchestrator; each carries a stable ``code`` the HTTP server maps as is.

OrchestratorError           orchestrator trouble                     code
├── EnvelopeRejected        submit refused; recorded as ``envelope.rejected``
│   ├── InvalidEnvelope     a field is missing or of the wrong type  invalid-envelope
│   ├── UnsupportedProtocol protocol_version this ORCA cannot read   unsupported-protocol
│   ├── RunNotOpen          unknown run, or one already ended        run-not-open
│   ├── EnvelopeExpired     its TTL passed before it arrived         expired
│   ├── IdempotencyConflict same id as an earlier envelope, other content  idempotency-conflict
│   ├── PolicyDenied        the policy hook said no                  policy-denied
│   └── BudgetExceeded      the budget hook could not reserve        budget-exceeded
├── InvalidRequest          an argument that cannot be used as given invalid-request
├── RunNotFound             no run has that id                       run-not-found
├── RunNotFinished          no final result yet                      run-not-finished
├── TaskNotFound            no task has that id                      task-not-found
├── LeaseLost               the task is not (any more) leased to the caller  lease-lost
├── TaskFailed              a handler raises it to fail its task     task-failed
└── OrchestratorClosed      closed, or stopped after a ledger write failed: reopen it
"""

from typing import ClassVar

from orca import governance
from orca.errors import OrcaError


class OrchestratorError(OrcaError):
    """Base of orchestrator errors; ``code`` is stable across versions (API and HTTP)."""

    code: ClassVar[str] = "orchestrator-error"


class EnvelopeRejected(OrchestratorError):
    """An envelope was refused. The refusal itself is a ledger entry (``envelope.rejected``).

    ``entry_id`` is that entry's id (None when even the rejection could not be recorded).
    """

    code: ClassVar[str] = "envelope-rejected"

    def __init__(self, message: str, *, entry_id: int | None = None) -> None:
        super().__init__(message)
        self.entry_id = entry_id


class InvalidEnvelope(EnvelopeRejected):
    code: ClassVar[str] = "invalid-envelope"


class UnsupportedProtocol(EnvelopeRejected):
    code: ClassVar[str] = "unsupported-protocol"


class RunNotOpen(EnvelopeRejected):
    code: ClassVar[str] = "run-not-open"


class EnvelopeExpired(EnvelopeRejected):
    code: ClassVar[str] = "expired"


class IdempotencyConflict(EnvelopeRejected):
    code: ClassVar[str] = "idempotency-conflict"


class PolicyDenied(EnvelopeRejected, governance.PolicyDenied):
    """Also an ``orca.governance.PolicyDenied``: one ``except`` catches every denial."""

    code: ClassVar[str] = "policy-denied"


class BudgetExceeded(EnvelopeRejected, governance.BudgetExceeded):
    """Also an ``orca.governance.BudgetExceeded`` (submit path and provider edge alike)."""

    code: ClassVar[str] = "budget-exceeded"


class InvalidRequest(OrchestratorError):
    """An argument that cannot be used as given (bad status, non-JSON result, …)."""

    code: ClassVar[str] = "invalid-request"


class RunNotFound(OrchestratorError):
    code: ClassVar[str] = "run-not-found"


class RunNotFinished(OrchestratorError):
    code: ClassVar[str] = "run-not-finished"


class TaskNotFound(OrchestratorError):
    code: ClassVar[str] = "task-not-found"


class LeaseLost(OrchestratorError):
    code: ClassVar[str] = "lease-lost"


class TaskFailed(OrchestratorError):
    """Raise from a handler to fail the task; ``retryable=False`` dead-letters it at once."""

    code: ClassVar[str] = "task-failed"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class OrchestratorClosed(OrchestratorError):
    code: ClassVar[str] = "orchestrator-closed"


REJECTIONS: dict[str, type[EnvelopeRejected]] = {
    cls.code: cls
    for cls in (
        InvalidEnvelope,
        UnsupportedProtocol,
        RunNotOpen,
        EnvelopeExpired,
        IdempotencyConflict,
        PolicyDenied,
        BudgetExceeded,
    )
}
