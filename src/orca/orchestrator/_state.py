"""The orchestrator's state as a fold over its ledger entries.

Every change of state is one ledger entry, and :meth:`State.apply` is the only
code that changes state: the live orchestrator applies each action as it
queues it, and opening a home applies the same actions read back from the
ledger. So "reopened state equals the state before the crash" holds by
construction, and the simulation test checks it anyway (:meth:`State.view`).

Times come from the entries (``at_ms`` in ``meta``, deadlines in ``args``),
never from the clock of whoever replays them.

Entry kinds (the vocabulary the checks, the CLI and the docs use):

=====================  ==========================================================
``run.started``        args: workflow, budget, metadata
``run.ended``          args: status (ok | error | cancelled)
``envelope.accepted``  args: the envelope; meta: content_hash, expires_ms, …
``envelope.rejected``  args: id, kind, recipient; result: code, reason
``task.claimed``       args: task, attempt, agent, lease_until_ms, lease_ms
``task.heartbeat``     args: task, attempt, lease_until_ms
``task.completed``     args: task, attempt; result: the result; meta: usage
``task.failed``        args: task, attempt, retryable; result: error;
                       meta: retry_at_ms (None: a ``task.dead_lettered`` follows)
``task.lease_expired`` args: task, attempt, heartbeats; meta: retry | dead-letter | expire
``task.dead_lettered`` args: task, attempt, reason
``task.expired``       args: task
``task.cancelled``     args: task
``budget.warning``     args: reservation; result: message
=====================  ==========================================================
"""

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from orca.orchestrator._envelope import Ack
from orca.orchestrator._lazy import LazyMap, as_json
from orca.orchestrator._model import TERMINAL

KIND_PREFIXES = ("run.", "envelope.", "task.", "budget.")


class Applied(NamedTuple):
    """What an entry looks like to the fold: an Action or an Entry both fit."""

    kind: str
    run: str | None
    trace: str | None
    span: str | None
    actor: str | None
    args: Any
    result: Any
    meta: Any


@dataclass(slots=True)
class AttemptState:
    attempt: int
    agent: str
    claimed_ms: int
    span: str | None
    outcome: str | None = None
    ended_ms: int | None = None
    heartbeats: int = 0


@dataclass(slots=True)
class TaskState:
    id: str
    run: str
    envelope: dict[str, Any]
    accepted_ms: int
    expires_ms: int
    enqueue_span: str | None
    status: str = "pending"
    attempt: int = 0
    ready_ms: int = 0
    lease_until_ms: int | None = None
    lease_ms: int = 0
    worker: str | None = None
    deliver_span: str | None = None
    result: Any = None
    error: str | None = None
    usage: dict[str, Any] | None = None
    reservation: dict[str, Any] | None = None
    ended_ms: int | None = None
    attempts: list[AttemptState] = field(default_factory=list)

    @property
    def recipient(self) -> str:
        return str(self.envelope["recipient"])

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(slots=True)
class RunState:
    id: str
    trace: str
    root_span: str
    workflow: str
    started_ms: int
    budget: Any = None
    metadata: Any = None
    status: str = "open"
    ended_ms: int | None = None
    tasks: list[str] = field(default_factory=list)
    result_envelope: str | None = None


@dataclass(slots=True)
class Known:
    """The idempotency index's row: the content an id was accepted with, and its ack."""

    content_hash: str
    ack: Ack


class State:
    """Runs, tasks, the idempotency index and the queues derived from them."""

    def __init__(self) -> None:
        self.runs: dict[str, RunState] = {}
        self.tasks: LazyMap[TaskState] = LazyMap(_build_task)
        self.known: LazyMap[Known] = LazyMap(_build_known)
        self.results: dict[str, dict[str, Any]] = {}  # envelope id → result for the caller
        self.problems: list[str] = []  # entries that did not fit (reported, never repaired)
        self.open_tasks: set[str] = set()  # not terminal yet
        # Derived indexes (lazy deletion: an item is live only if it still matches the task).
        self.ready: dict[str, list[tuple[int, int, str]]] = {}
        self.leases: list[tuple[int, int, str]] = []
        self.ttl: list[tuple[int, str]] = []
        self._seq = 0

    # -- the fold ------------------------------------------------------------------------------

    def apply(self, a: Applied, entry_id: int | None = None) -> None:
        """Change state by one entry; ``entry_id`` is None while the entry is still in flight."""
        fn = _APPLY.get(a.kind)  # other kinds in the ledger are not the orchestrator's
        if fn is None:
            return
        try:
            fn(self, a, entry_id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.problems.append(f"{a.kind} ({entry_id}): {type(exc).__name__} {exc}")

    def set_entry_id(self, envelope_id: str, entry_id: int) -> None:
        known = self.known.get(envelope_id)
        if known is not None and known.ack.entry_id < 0:
            a = known.ack
            known.ack = Ack(a.envelope_id, a.run, entry_id, a.accepted_ms, a.expires_ms, a.queued)

    def _run_started(self, a: Applied, _: int | None) -> None:
        args, meta = a.args, a.meta
        self.runs[str(a.run)] = RunState(
            id=str(a.run),
            trace=str(a.trace),
            root_span=str(a.span),
            workflow=args["workflow"],
            started_ms=meta["at_ms"],
            budget=args.get("budget"),
            metadata=args.get("metadata"),
        )

    def _run_ended(self, a: Applied, _: int | None) -> None:
        run = self.runs[str(a.run)]
        run.status = a.args["status"]
        run.ended_ms = a.meta["at_ms"]

    def _accepted(self, a: Applied, entry_id: int | None) -> None:
        env, meta = a.args, a.meta
        run = self.runs[env["run"]]
        queued = env.get("recipient") is not None
        ack = Ack(
            env["id"],
            env["run"],
            -1 if entry_id is None else entry_id,
            meta["at_ms"],
            meta["expires_ms"],
            queued,
        )
        self.known[env["id"]] = Known(meta["content_hash"], ack)
        if not queued:
            run.result_envelope = env["id"]
            self.results[env["id"]] = env
            return
        task = TaskState(
            id=env["id"],
            run=env["run"],
            envelope=env,
            accepted_ms=meta["at_ms"],
            expires_ms=meta["expires_ms"],
            enqueue_span=a.span,
            ready_ms=meta["at_ms"],
            reservation=meta.get("reservation"),
        )
        self.tasks[task.id] = task
        self.open_tasks.add(task.id)
        run.tasks.append(task.id)
        self._push_ready(task)
        heapq.heappush(self.ttl, (task.expires_ms, task.id))

    def _claimed(self, a: Applied, _: int | None) -> None:
        args = a.args
        t = self.tasks[args["task"]]
        t.status = "leased"
        t.attempt = args["attempt"]
        t.lease_until_ms = args["lease_until_ms"]
        t.lease_ms = args["lease_ms"]
        t.worker = a.actor
        t.deliver_span = a.span
        t.attempts.append(AttemptState(t.attempt, args["agent"], a.meta["at_ms"], a.span))
        heapq.heappush(self.leases, (t.lease_until_ms, t.attempt, t.id))

    def _heartbeat(self, a: Applied, _: int | None) -> None:
        t = self.tasks[a.args["task"]]
        t.lease_until_ms = a.args["lease_until_ms"]
        if t.attempts:
            t.attempts[-1].heartbeats += 1
        heapq.heappush(self.leases, (t.lease_until_ms, t.attempt, t.id))

    def _end_attempt(self, t: TaskState, outcome: str, at_ms: int) -> None:
        if t.attempts and t.attempts[-1].outcome is None:
            t.attempts[-1].outcome = outcome
            t.attempts[-1].ended_ms = at_ms
        t.lease_until_ms = None

    def _completed(self, a: Applied, _: int | None) -> None:
        t = self.tasks[a.args["task"]]
        self._end_attempt(t, "completed", a.meta["at_ms"])
        t.status = "completed"
        self.open_tasks.discard(t.id)
        t.result = a.result
        t.usage = a.meta.get("usage")
        t.ended_ms = a.meta["at_ms"]

    def _failed(self, a: Applied, _: int | None) -> None:
        t = self.tasks[a.args["task"]]
        self._end_attempt(t, "failed", a.meta["at_ms"])
        t.error = (a.result or {}).get("error")
        retry_at = a.meta.get("retry_at_ms")
        if retry_at is None:
            t.status = "failed"  # a task.dead_lettered follows in the same batch
            return
        t.status = "pending"
        t.ready_ms = retry_at
        self._push_ready(t)

    def _lease_expired(self, a: Applied, _: int | None) -> None:
        t = self.tasks[a.args["task"]]
        self._end_attempt(t, "lease_expired", a.meta["at_ms"])
        if a.meta.get("then") == "retry":
            t.status = "pending"
            t.ready_ms = a.meta["at_ms"]
            self._push_ready(t)
        else:
            t.status = "failed"  # a task.dead_lettered or task.expired follows in the same batch

    def _ignore(self, a: Applied, _: int | None) -> None:
        return None

    # -- the derived queues --------------------------------------------------------------------

    def _push_ready(self, t: TaskState) -> None:
        self._seq += 1
        heapq.heappush(self.ready.setdefault(t.recipient, []), (t.ready_ms, self._seq, t.id))

    def pop_ready(self, agent: str, now_ms: int) -> TaskState | None:
        """The next claimable task for ``agent`` (and remove it from the queue), or None."""
        heap = self.ready.get(agent)
        while heap:
            ready_ms, _, tid = heap[0]
            t = self.tasks[tid]
            if t.status != "pending" or t.ready_ms != ready_ms:
                heapq.heappop(heap)  # stale
                continue
            if ready_ms > now_ms:
                return None
            heapq.heappop(heap)
            return t
        return None

    def requeue(self, t: TaskState) -> None:
        """Put back a task popped but not claimed after all."""
        self._push_ready(t)

    def next_ready_ms(self, agents: Iterator[str] | list[str]) -> int | None:
        """The earliest time a task of one of ``agents`` becomes claimable (pruning stale items)."""
        best: int | None = None
        for agent in agents:
            heap = self.ready.get(agent)
            while heap:
                ready_ms, _, tid = heap[0]
                t = self.tasks[tid]
                if t.status != "pending" or t.ready_ms != ready_ms:
                    heapq.heappop(heap)
                    continue
                best = ready_ms if best is None else min(best, ready_ms)
                break
        return best

    def due_leases(self, now_ms: int) -> list[TaskState]:
        out: list[TaskState] = []
        while self.leases and self.leases[0][0] <= now_ms:
            until, attempt, tid = heapq.heappop(self.leases)
            t = self.tasks[tid]
            if t.status == "leased" and t.attempt == attempt and t.lease_until_ms == until:
                out.append(t)
        return out

    def due_ttls(self, now_ms: int) -> list[TaskState]:
        """Pending tasks whose TTL has passed. A leased one is judged when its lease ends."""
        out: list[TaskState] = []
        while self.ttl and self.ttl[0][0] <= now_ms:
            _, tid = heapq.heappop(self.ttl)
            if self.tasks[tid].status == "pending":
                out.append(self.tasks[tid])
        return out

    def next_deadline_ms(self) -> int | None:
        """The earliest lease end or TTL (a timer the loop must wake for)."""
        times = [h[0][0] for h in (self.leases, self.ttl) if h]
        return min(times) if times else None

    # -- views and snapshots -------------------------------------------------------------------

    def dump(self) -> bytes:
        """The canonical state (no derived indexes) as JSON."""
        return orjson.dumps(
            {
                "runs": self.runs,
                "tasks": as_json(self.tasks),
                "known": as_json(self.known),
                "results": self.results,
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def view(self) -> dict[str, Any]:
        """The canonical state as plain data (a copy): equal states have equal views."""
        data: dict[str, Any] = orjson.loads(self.dump())
        return data

    def with_reservation(self) -> list[TaskState]:
        """Tasks holding a budget reservation (building only those)."""
        out = []
        for k in self.tasks:
            raw = self.tasks.raw(k)
            if type(raw) is str:
                held = '"reservation":null' not in raw
            else:
                held = (
                    raw.get("reservation") if type(raw) is dict else raw.reservation
                ) is not None
            if held:
                out.append(self.tasks[k])
        return out


def _build_task(raw: dict[str, Any]) -> TaskState:
    fields = dict(raw)
    attempts = [AttemptState(**x) for x in fields.pop("attempts")]
    return TaskState(**fields, attempts=attempts)


def _build_known(raw: dict[str, Any]) -> Known:
    return Known(raw["content_hash"], Ack(**raw["ack"]))


def _finisher(status: str) -> Callable[[State, Applied, int | None], None]:
    """The fold step of a terminal entry: the task ends with ``status``."""

    def apply(st: State, a: Applied, _: int | None) -> None:
        t = st.tasks[a.args["task"]]
        st._end_attempt(t, status, a.meta["at_ms"])
        t.status = status
        st.open_tasks.discard(t.id)
        t.ended_ms = a.meta["at_ms"]
        if status == "dead_lettered":
            t.error = a.args.get("reason") or t.error

    return apply


_APPLY: dict[str, Callable[[State, Applied, int | None], None]] = {
    "run.started": State._run_started,
    "run.ended": State._run_ended,
    "envelope.accepted": State._accepted,
    "envelope.rejected": State._ignore,
    "task.claimed": State._claimed,
    "task.heartbeat": State._heartbeat,
    "task.completed": State._completed,
    "task.failed": State._failed,
    "task.lease_expired": State._lease_expired,
    "task.dead_lettered": _finisher("dead_lettered"),
    "task.expired": _finisher("expired"),
    "task.cancelled": _finisher("cancelled"),
    "budget.warning": State._ignore,
}
