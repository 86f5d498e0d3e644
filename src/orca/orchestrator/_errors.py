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


class OrchestratorError(OrcaError, code="orchestrator-error"):
    """Base of orchestrator errors; ``code`` is stable across versions (API and HTTP).

    A subclass names its code in its class line (``class X(Base, code="x")``,
    see :class:`orca.errors.OrcaError`): each error is a declaration and a docstring.
    """

    code: ClassVar[str]


class EnvelopeRejected(OrchestratorError, code="envelope-rejected"):
    """An envelope was refused. The refusal itself is a ledger entry (``envelope.rejected``).

    ``entry_id`` is that entry's id (None when even the rejection could not be recorded).
    """

    def __init__(self, message: str, *, entry_id: int | None = None) -> None:
        super().__init__(message)
        self.entry_id = entry_id


class InvalidEnvelope(EnvelopeRejected, code="invalid-envelope"):
    """A field is missing or of the wrong type: fix the envelope and submit again."""


class UnsupportedProtocol(EnvelopeRejected, code="unsupported-protocol"):
    """A ``protocol_version`` this ORCA cannot read: upgrade ORCA or send an older version."""


class RunNotOpen(EnvelopeRejected, code="run-not-open"):
    """The run is unknown or already ended: start a run first."""


class EnvelopeExpired(EnvelopeRejected, code="expired"):
    """Its TTL passed before it arrived: send it again with a longer ``ttl_ms``."""


class IdempotencyConflict(EnvelopeRejected, code="idempotency-conflict"):
    """The same id as an earlier envelope with other content: use a new id for new content."""


class PolicyDenied(EnvelopeRejected, governance.PolicyDenied, code="policy-denied"):
    """Also an ``orca.governance.PolicyDenied``: one ``except`` catches every denial."""


class BudgetExceeded(EnvelopeRejected, governance.BudgetExceeded, code="budget-exceeded"):
    """Also an ``orca.governance.BudgetExceeded`` (submit path and provider edge alike)."""


class InvalidRequest(OrchestratorError, ValueError, code="invalid-request"):
    """An argument that cannot be used as given (bad status, non-JSON result, …).

    Also a ``ValueError``, Python's name for a bad argument value.
    """


class RunNotFound(OrchestratorError, code="run-not-found"):
    """No run has that id."""


class RunNotFinished(OrchestratorError, code="run-not-finished"):
    """The run has no final result yet: wait for it, or read its tasks."""


class TaskNotFound(OrchestratorError, code="task-not-found"):
    """No task has that id."""


class LeaseLost(OrchestratorError, code="lease-lost"):
    """The task is not (any more) leased to the caller: its lease expired."""


class TaskFailed(OrchestratorError, code="task-failed"):
    """Raise from a handler to fail the task; ``retryable=False`` dead-letters it at once."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class OrchestratorClosed(OrchestratorError, code="orchestrator-closed"):
    """Closed, or stopped after a failed ledger write: reopen the orchestrator."""


# Each rejection's stable code -> its error class: how a client turns a refusal back into one.
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
