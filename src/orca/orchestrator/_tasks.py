"""Task transitions: claim under a lease, heartbeat, complete, fail (retry or dead-letter).

Each is one decision under the engine's lock and one or a few ledger
entries queued together (so a failure and its dead letter are one batch:
both on disk, or neither).
"""

from typing import Any

from orca.ledger import Action, Entry
from orca.orchestrator._engine import ACTOR, DEFAULT_LEASE_MS, Engine, jsonable
from orca.orchestrator._envelope import Usage
from orca.orchestrator._errors import InvalidRequest, LeaseLost, TaskNotFound
from orca.orchestrator._model import Task
from orca.orchestrator._payloads import Payloads
from orca.orchestrator._state import RunState, TaskState


class TaskOps(Engine):
    """The task half of the orchestrator's API (what remote workers call)."""

    def claim(
        self,
        agent: str,
        *,
        lease_ms: int | None = None,
        max_tasks: int = 1,
        worker: str | None = None,
    ) -> list[Task]:
        """Lease up to ``max_tasks`` claimable tasks of ``agent`` (oldest first) for a while."""
        for label, name in (("agent", agent), ("worker", worker)):
            if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 200):
                raise InvalidRequest(f"{label} must be a name of 1-200 characters")
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
                tasks.append(_task_row(t, run, attempt, until, span.span_id, self.payloads))
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
            governed = self._govern_result(t, run, result, now)
            result = governed[0]
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
            actions = [done, *governed[1], *self._settle(t, run, used, now)]
            tickets = self._queue(actions)
        return self._wait(tickets)[0]

    def _govern_result(self, t: Any, run: Any, result: Any, now: int) -> tuple[Any, list[Any]]:
        """The ``post_submit`` check of a handler's result (when the policy hook has one).

        A redacted result replaces the original; a denied one is withheld (recorded as
        ``{"withheld": <rule>}``, never stored) — the task still completes, so nothing
        retries into the same denial. The intervention is a ``policy.decision`` entry.
        """
        check = getattr(self.policy, "check_result", None)
        if check is None:
            return result, []
        try:
            decision = check(t.recipient, str(t.envelope.get("kind")), result)
        except Exception:
            self.hook_errors += 1
            return {"withheld": "policy-error"}, []
        if not decision.allowed:
            result = {"withheld": decision.rule or "policy"}
        elif decision.payload_modified:
            result = decision.payload
        if decision.audit is None:
            return result, []
        entry = self._action(
            "policy.decision",
            run,
            span=t.deliver_span,
            actor="policy",
            args={"task": t.id},
            result=decision.audit,
            now=now,
        )
        return result, [entry]

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


def _task_row(
    t: TaskState, run: RunState, attempt: int, until: int, span: str, payloads: Payloads
) -> Task:
    env = t.envelope
    return Task(
        id=t.id,
        run=t.run,
        trace_id=run.trace,
        kind=env["kind"],
        sender=env["sender"],
        recipient=env["recipient"],
        payload=payloads.unpack(env),
        attempt=attempt,
        lease_until_ms=until,
        expires_ms=t.expires_ms,
        span_id=span,
        parent=env.get("parent"),
        usage=Usage.coerce(env.get("usage")),
    )
