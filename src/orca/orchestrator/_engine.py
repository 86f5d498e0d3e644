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
    LeaseLost,
    OrchestratorClosed,
    TaskNotFound,
)
from orca.orchestrator._hooks import BudgetHook, PolicyHook, Reservation
from orca.orchestrator._model import Run, RunStatus, Task
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
        self._broken: BaseException | None = None
        self._closed = False
        self._agent_retry: dict[str, RetryPolicy] = {}
        self._agent_lease: dict[str, int] = {}
        self.hook_errors = 0
        self.last_entry: Entry | None = None

    # -- recording -----------------------------------------------------------------------------

    def _usable(self) -> None:
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
        return entries

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
            self.budget.release(_reservation(t.reservation), _run_row(run))
        except Exception:
            self.hook_errors += 1

    def _settle(self, t: TaskState, run: RunState, usage: Usage | None, now: int) -> list[Action]:
        if t.reservation is None:
            return []
        res = _reservation(t.reservation)
        try:
            warnings = list(self.budget.settle(res, usage, _run_row(run)))
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

    # -- task transitions ----------------------------------------------------------------------

    def claim(
        self,
        agent: str,
        *,
        lease_ms: int | None = None,
        max_tasks: int = 1,
        worker: str | None = None,
    ) -> list[Task]:
        """Lease up to ``max_tasks`` claimable tasks of ``agent`` (oldest first) for a while."""
        if max_tasks < 1:
            raise InvalidRequest(f"max_tasks must be at least 1, not {max_tasks}")
        if lease_ms is not None and lease_ms <= 0:
            raise InvalidRequest(f"lease_ms must be positive, not {lease_ms}")
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            tickets = self._sweep(now)
            lease = lease_ms or self._agent_lease.get(agent, DEFAULT_LEASE_MS)
            tasks: list[Task] = []
            actions: list[Action] = []
            while len(tasks) < max_tasks:
                t = self._state.pop_ready(agent, now)
                if t is None:
                    break
                run = self._state.runs[t.run]
                env = t.envelope
                parent = env.get("parent") or run.root_span
                attempt = t.attempt + 1
                span = self._tracer.deliver(
                    run.trace, parent, t.enqueue_span, t.id, run.id, agent, attempt
                )
                until = now + lease
                actions.append(
                    self._action(
                        "task.claimed",
                        run,
                        span=span.span_id,
                        actor=worker or agent,
                        args={
                            "task": t.id,
                            "attempt": attempt,
                            "agent": agent,
                            "lease_until_ms": until,
                            "lease_ms": lease,
                        },
                        now=now,
                    )
                )
                tasks.append(_task_row(t, run, attempt, until, span.span_id))
            tickets += self._queue(actions)
        self._wait(tickets)
        return tasks

    def _leased(self, task_id: str, attempt: int | None, *, allow_pending: bool) -> TaskState:
        """The task, if the caller may still act on it (hold the lock)."""
        if not isinstance(task_id, str):
            raise TaskNotFound(f"a task id is a string, not {task_id!r}")
        t = self._state.tasks.get(task_id)
        if t is None:
            raise TaskNotFound(f"no task {task_id!r}; task ids are envelope ids")
        if attempt is not None and attempt != t.attempt:
            raise LeaseLost(
                f"task {task_id} attempt {attempt} is stale: attempt {t.attempt} has it now"
            )
        if t.status == "leased" or (allow_pending and t.status == "pending" and t.attempt > 0):
            return t
        raise LeaseLost(f"task {task_id} is {t.status}, not leased; nothing to do for it")

    def heartbeat(
        self, task_id: str, *, attempt: int | None = None, lease_ms: int | None = None
    ) -> int:
        """Extend the task's lease (by ``lease_ms``, default the claim's); return its new end."""
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            t = self._leased(task_id, attempt, allow_pending=False)
            if t.lease_until_ms is not None and t.lease_until_ms <= now:
                raise LeaseLost(
                    f"task {task_id}'s lease ended at {t.lease_until_ms}; "
                    "it will be delivered again (claim it anew)"
                )
            run = self._state.runs[t.run]
            until = now + (lease_ms or t.lease_ms)
            tickets = self._queue(
                [
                    self._action(
                        "task.heartbeat",
                        run,
                        span=t.deliver_span,
                        actor=t.worker or ACTOR,
                        args={"task": t.id, "attempt": t.attempt, "lease_until_ms": until},
                        now=now,
                    )
                ]
            )
        self._wait(tickets)
        return until

    def complete(
        self,
        task_id: str,
        result: Any = None,
        *,
        usage: Usage | dict[str, Any] | None = None,
        attempt: int | None = None,
    ) -> Entry:
        """Record the task's result. A late completion (lease ran out, nobody reclaimed) counts."""
        try:
            used = Usage.coerce(usage)
            result = jsonable(result)
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"task {task_id}: {exc}") from None
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            t = self._leased(task_id, attempt, allow_pending=True)
            run = self._state.runs[t.run]
            done = self._action(
                "task.completed",
                run,
                span=t.deliver_span,
                actor=t.worker or ACTOR,
                args={"task": t.id, "attempt": t.attempt},
                result=result,
                meta={"usage": used.to_dict() if used else None},
                now=now,
            )
            self._end_span(t, "completed")
            actions = [done, *self._settle(t, run, used, now)]
            tickets = self._queue(actions)
        return self._wait(tickets)[0]

    def fail(
        self, task_id: str, error: str, *, retryable: bool = True, attempt: int | None = None
    ) -> Entry:
        """Record a failed attempt: retried after a backoff, or dead-lettered (out of attempts)."""
        error = str(error)
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            t = self._leased(task_id, attempt, allow_pending=True)
            run = self._state.runs[t.run]
            policy = self._retry_for(t)
            retry_at: int | None = None
            follow = ""
            reason = ""
            if not retryable:
                follow, reason = "task.dead_lettered", f"not retryable: {error}"
            elif t.attempt >= policy.max_attempts:
                follow, reason = "task.dead_lettered", f"{t.attempt} attempts failed; last: {error}"
            else:
                retry_at = now + policy.delay_ms(t.attempt, self._rng)
                if now >= t.expires_ms:
                    retry_at, follow = None, "task.expired"
            actions = [
                self._action(
                    "task.failed",
                    run,
                    span=t.deliver_span,
                    actor=t.worker or ACTOR,
                    args={"task": t.id, "attempt": t.attempt, "retryable": retryable},
                    result={"error": error},
                    meta={"retry_at_ms": retry_at},
                    now=now,
                )
            ]
            if follow:
                args: dict[str, Any] = {"task": t.id, "attempt": t.attempt}
                if reason:
                    args["reason"] = reason
                actions.append(self._action(follow, run, span=t.enqueue_span, args=args, now=now))
            self._end_span(t, "failed", error)
            tickets = self._queue(actions)
            if follow:
                self._release(t, run)
        return self._wait(tickets)[0]

    def _end_span(self, t: TaskState, outcome: str, error: str | None = None) -> None:
        if t.deliver_span is not None and t.attempts:
            run = self._state.runs[t.run]
            self._tracer.end_delivery(
                run.trace, t.deliver_span, t.attempts[-1].agent, outcome, error
            )


def _reservation(raw: dict[str, Any]) -> Reservation:
    return Reservation(raw["id"], Usage.coerce(raw.get("amount")) or Usage())


def _run_row(r: RunState) -> Run:
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


def _task_row(t: TaskState, run: RunState, attempt: int, until: int, span: str) -> Task:
    env = t.envelope
    return Task(
        id=t.id,
        run=t.run,
        trace_id=run.trace,
        kind=env["kind"],
        sender=env["sender"],
        recipient=env["recipient"],
        payload=env.get("payload"),
        attempt=attempt,
        lease_until_ms=until,
        expires_ms=t.expires_ms,
        span_id=span,
        parent=env.get("parent"),
        usage=Usage.coerce(env.get("usage")),
    )
