"""The engine under the orchestrator: decide under a lock, record in ledger order, wait outside.

Each operation takes the state lock, decides, builds its ledger actions,
queues them (``Ledger.begin_append_all``: their place in the ledger is fixed
then) and applies them to the state — all under the lock, so ledger order is
the order the state changed. It then releases the lock and waits for the
fsync, which many operations share (group commit). An acknowledgement is
returned only after its own entry is durable, which implies every earlier
one is too.

If a durable write fails, the in-memory state may hold a change the ledger
does not: the engine stops (every call raises :class:`OrchestratorClosed`)
and reopening rebuilds the state from the ledger. Damage is reported, never
papered over.

The task transitions (claim, heartbeat, complete, fail) and the sweep of
leases and TTLs live here; runs, envelopes and reading live in
:mod:`orca.orchestrator._orchestrator`.
"""

import random
import threading
from collections.abc import Sequence
from typing import Any, cast

import orjson

from orca.ledger import Action, AppendTicket, Entry, Ledger
from orca.orchestrator._clock import Clock
from orca.orchestrator._envelope import Usage
from orca.orchestrator._errors import (
    InvalidRequest,
    OrchestratorClosed,
)
from orca.orchestrator._hooks import BudgetHook, PolicyHook, Reservation
from orca.orchestrator._model import Run, RunStatus
from orca.orchestrator._payloads import Payloads
from orca.orchestrator._retry import RetryPolicy
from orca.orchestrator._state import Applied, RunState, State, TaskState
from orca.orchestrator._trace import RunTracer

ACTOR = "orchestrator"
DEFAULT_LEASE_MS = 30_000


def jsonable(value: Any) -> Any:
    """``value`` as it will read back from the ledger (tuples become lists, …)."""
    return orjson.loads(orjson.dumps(value))


class Engine:
    """State, ledger and the lock that orders them. Not used directly: see ``Orchestrator``."""

    payloads: Payloads  # set by the Orchestrator: where payloads above a size go

    def __init__(
        self,
        ledger: Ledger,
        state: State,
        clock: Clock,
        tracer: RunTracer,
        *,
        policy: PolicyHook,
        budget: BudgetHook,
        retry: RetryPolicy,
        seed: int,
    ) -> None:
        self._ledger = ledger
        self._state = state
        self.clock = clock
        self._tracer = tracer
        self.policy = policy
        self.budget = budget
        self.retry = retry
        self.seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._inflight = 0
        self._snapshot_wanted = False
        self._broken: BaseException | None = None
        self._closed = False
        self._agent_retry: dict[str, RetryPolicy] = {}
        self._agent_lease: dict[str, int] = {}
        self.hook_errors = 0
        self.last_entry: Entry | None = None

    # -- recording -----------------------------------------------------------------------------

    def _usable(self) -> None:
        """Raise when closed or broken; hold the caller while a snapshot is being taken."""
        while self._snapshot_wanted and self._broken is None and not self._closed:
            self._cond.wait()
        self._usable_now()

    def _usable_now(self) -> None:
        if self._broken is not None:
            raise OrchestratorClosed(
                f"a ledger write failed ({self._broken}); reopen the orchestrator: "
                "its state is rebuilt from the ledger"
            )
        if self._closed:
            raise OrchestratorClosed("the orchestrator is closed; open it again")

    def _queue(self, actions: Sequence[Action]) -> list[AppendTicket]:
        """Queue ``actions`` in the ledger and apply them to the state. Hold the lock."""
        if not actions:
            return []
        tickets = self._ledger.begin_append_all(actions)
        for a in actions:
            self._state.apply(
                Applied(a.kind, a.run, a.trace, a.span, a.actor, a.args, a.result, a.meta)
            )
        self._inflight += len(tickets)
        return tickets

    def _wait(self, tickets: Sequence[AppendTicket]) -> list[Entry]:
        """Wait for queued entries to be durable (without the lock); stop the engine on failure."""
        if not tickets:
            return []
        entries: list[Entry] = []
        try:
            for t in tickets:
                entries.append(t.wait())
        except BaseException as exc:
            with self._cond:
                self._broken = exc
                self._inflight -= len(tickets)
                self._cond.notify_all()
            raise OrchestratorClosed(
                f"the ledger did not take the entry ({exc}); reopen the orchestrator"
            ) from exc
        with self._cond:
            self._inflight -= len(tickets)
            last = entries[-1]
            if self.last_entry is None or last.id > self.last_entry.id:
                self.last_entry = last
            for e in entries:
                if e.kind == "envelope.accepted":
                    self._state.set_entry_id(e.args["id"], e.id)
            self._cond.notify_all()
        self._after_commit(len(entries))
        return entries

    def _after_commit(self, n: int) -> None:
        """Called after ``n`` entries of an operation are durable (the orchestrator snapshots)."""

    def _action(
        self,
        kind: str,
        run: RunState,
        *,
        span: str | None = None,
        actor: str = ACTOR,
        args: Any = None,
        result: Any = None,
        meta: dict[str, Any] | None = None,
        now: int,
    ) -> Action:
        return Action(
            kind=kind,
            actor=actor,
            run=run.id,
            trace=run.trace,
            span=span,
            args=args,
            result=result,
            meta={"at_ms": now, **(meta or {})},
        )

    # -- policies ------------------------------------------------------------------------------

    def configure_agent(
        self, agent: str, *, retry: RetryPolicy | None = None, lease_ms: int | None = None
    ) -> None:
        """Per-agent retry policy and default lease (for in-process agents and remote workers)."""
        if not isinstance(agent, str) or not agent:
            raise InvalidRequest("an agent name is a non-empty string")
        if lease_ms is not None and lease_ms <= 0:
            raise InvalidRequest(f"lease_ms must be positive, not {lease_ms}")
        with self._lock:
            if retry is not None:
                self._agent_retry[agent] = retry
            if lease_ms is not None:
                self._agent_lease[agent] = lease_ms

    def _retry_for(self, t: TaskState) -> RetryPolicy:
        raw = t.envelope.get("retry")
        if raw:
            return RetryPolicy.from_mapping(raw)
        return self._agent_retry.get(t.recipient, self.retry)

    # -- the sweep: leases and TTLs ------------------------------------------------------------

    def _sweep(self, now: int) -> list[AppendTicket]:
        """Record what time has done: leases that ran out, TTLs that passed. Hold the lock."""
        tickets: list[AppendTicket] = []
        for t in self._state.due_leases(now):
            run = self._state.runs[t.run]
            attempt = t.attempt
            heartbeats = t.attempts[-1].heartbeats if t.attempts else 0
            if attempt >= self._retry_for(t).max_attempts:
                then, follow = "dead-letter", "task.dead_lettered"
            elif now >= t.expires_ms:
                then, follow = "expire", "task.expired"
            else:
                then, follow = "retry", ""
            actions = [
                self._action(
                    "task.lease_expired",
                    run,
                    span=t.deliver_span,
                    actor=t.worker or ACTOR,
                    args={"task": t.id, "attempt": attempt, "heartbeats": heartbeats},
                    meta={"then": then},
                    now=now,
                )
            ]
            if follow:
                reason = (
                    f"lease expired on attempt {attempt} of {attempt}"
                    if then == "dead-letter"
                    else None
                )
                args: dict[str, Any] = {"task": t.id, "attempt": attempt}
                if reason:
                    args["reason"] = reason
                actions.append(self._action(follow, run, span=t.enqueue_span, args=args, now=now))
            self._end_span(t, "lease_expired")
            tickets += self._queue(actions)
            if follow:
                self._release(t, run)
        for t in self._state.due_ttls(now):
            run = self._state.runs[t.run]
            tickets += self._queue(
                [
                    self._action(
                        "task.expired", run, span=t.enqueue_span, args={"task": t.id}, now=now
                    )
                ]
            )
            self._release(t, run)
        return tickets

    def tick(self) -> int:
        """Record expired leases and TTLs now; return how many entries that took."""
        with self._lock:
            self._usable()
            tickets = self._sweep(self.clock.now_ms())
        return len(self._wait(tickets))

    def _next_timer_for(self, agents: set[str]) -> int | None:
        """When an unfinished task of ``agents`` next needs attention; None when none is left."""
        best: int | None = None
        with self._lock:
            for tid in self._state.open_tasks:
                t = self._state.tasks[tid]
                if t.recipient not in agents:
                    continue
                if t.status == "pending":
                    when = min(t.ready_ms, t.expires_ms)
                elif t.status == "leased" and t.lease_until_ms is not None:
                    when = t.lease_until_ms
                else:
                    continue
                best = when if best is None else min(best, when)
        return best

    # -- budget settlement ---------------------------------------------------------------------

    def _release(self, t: TaskState, run: RunState) -> None:
        if t.reservation is None:
            return
        try:
            self.budget.release(reservation_of(t.reservation), run_row(run))
        except Exception:
            self.hook_errors += 1

    def _settle(self, t: TaskState, run: RunState, usage: Usage | None, now: int) -> list[Action]:
        if t.reservation is None:
            return []
        res = reservation_of(t.reservation)
        try:
            warnings = list(self.budget.settle(res, usage, run_row(run)))
        except Exception:
            self.hook_errors += 1
            return []
        return [
            self._action(
                "budget.warning",
                run,
                span=t.deliver_span,
                args={"reservation": res.id, "task": t.id},
                result={"message": str(w)},
                now=now,
            )
            for w in warnings
        ]

    def _end_span(self, t: TaskState, outcome: str, error: str | None = None) -> None:
        """Close the current delivery's span (once: only while the task is still leased)."""
        if t.status == "leased" and t.deliver_span is not None and t.attempts:
            run = self._state.runs[t.run]
            self._tracer.end_delivery(
                run.trace, t.deliver_span, t.attempts[-1].agent, outcome, error
            )


def reservation_of(raw: dict[str, Any]) -> Reservation:
    return Reservation(raw["id"], Usage.coerce(raw.get("amount")) or Usage())


def run_row(r: RunState) -> Run:
    return Run(
        r.id,
        r.trace,
        r.workflow,
        cast(RunStatus, r.status),
        r.started_ms,
        r.ended_ms,
        r.root_span,
        r.budget,
        r.metadata,
    )
