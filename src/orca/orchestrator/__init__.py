"""The orchestrator: runs, envelopes and agents — durable, deduplicated, retried, expiring.

Agents hand each other work as envelopes; an accepted envelope becomes a task
for its recipient agent, delivered at least once under a lease, retried with
backoff and full jitter, expired past its TTL, dead-lettered when out of
attempts. Every decision is a ledger entry and the state is a fold over them,
rebuilt on open from a snapshot plus the ledger tail. Time is read from an
injected clock (:class:`VirtualClock` in tests)::

    with Orchestrator.open(home) as orch:
        @orch.agent("billing", concurrency=4)
        def billing(task, ctx):
            return {"refunded": task.payload["order"]}

        run = orch.start_run("support")
        orch.submit({"id": "e-1", "run": run.id, "kind": "agent_task",
                     "sender": "triage", "recipient": "billing", "payload": {"order": "A-17"}})
        orch.run_until_idle()

Governance plugs in through :class:`PolicyHook` and :class:`BudgetHook`;
:class:`Governance` is both, from the home's policy file and budgets
(``Orchestrator.open(home, policy=gov, budget=gov)``, then ``gov.bind(orch)``).
"""

from orca.orchestrator._agents import Handler, TaskContext
from orca.orchestrator._clock import Clock, SystemClock, VirtualClock
from orca.orchestrator._envelope import (
    DEFAULT_TTL_MS,
    KINDS,
    SUPPORTED_PROTOCOLS,
    Ack,
    Envelope,
    Usage,
)
from orca.orchestrator._errors import (
    REJECTIONS,
    BudgetExceeded,
    EnvelopeExpired,
    EnvelopeRejected,
    IdempotencyConflict,
    InvalidEnvelope,
    InvalidRequest,
    LeaseLost,
    OrchestratorClosed,
    OrchestratorError,
    PolicyDenied,
    RunNotFinished,
    RunNotFound,
    RunNotOpen,
    TaskFailed,
    TaskNotFound,
    UnsupportedProtocol,
)
from orca.orchestrator._governance import Governance, RunGovernance, run_governance
from orca.orchestrator._hooks import (
    AllowAllPolicy,
    BudgetDecision,
    BudgetHook,
    NoBudget,
    PolicyDecision,
    PolicyHook,
    Reservation,
)
from orca.orchestrator._inspect import (
    RunDetail,
    RunSummary,
    TaskRow,
    list_runs,
    read_state,
    run_events,
    show_run,
)
from orca.orchestrator._model import Run, RunResult, Task
from orca.orchestrator._orchestrator import Orchestrator
from orca.orchestrator._retry import RetryPolicy
from orca.orchestrator._snapshot import SnapshotIgnored

__all__ = [
    "DEFAULT_TTL_MS",
    "KINDS",
    "REJECTIONS",
    "SUPPORTED_PROTOCOLS",
    "Ack",
    "AllowAllPolicy",
    "BudgetDecision",
    "BudgetExceeded",
    "BudgetHook",
    "Clock",
    "Envelope",
    "EnvelopeExpired",
    "EnvelopeRejected",
    "Governance",
    "Handler",
    "IdempotencyConflict",
    "InvalidEnvelope",
    "InvalidRequest",
    "LeaseLost",
    "NoBudget",
    "Orchestrator",
    "OrchestratorClosed",
    "OrchestratorError",
    "PolicyDecision",
    "PolicyDenied",
    "PolicyHook",
    "Reservation",
    "RetryPolicy",
    "Run",
    "RunDetail",
    "RunGovernance",
    "RunNotFinished",
    "RunNotFound",
    "RunNotOpen",
    "RunResult",
    "RunSummary",
    "SnapshotIgnored",
    "SystemClock",
    "Task",
    "TaskContext",
    "TaskFailed",
    "TaskNotFound",
    "TaskRow",
    "UnsupportedProtocol",
    "Usage",
    "VirtualClock",
    "list_runs",
    "read_state",
    "run_events",
    "run_governance",
    "show_run",
]
