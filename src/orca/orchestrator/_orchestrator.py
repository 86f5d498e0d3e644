"""The Orchestrator: runs, envelopes and agents over one home's ledger.

Open it (``Orchestrator.open(home)``), start a run, submit envelopes; agents
receive them as tasks, in process (``@orch.agent``) or by claiming them from
elsewhere. Every decision is a ledger entry, and opening rebuilds the state
from the ledger (a snapshot plus the tail), so killing the process at any
point loses nothing that was acknowledged.
"""

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from orca._home import resolve_home
from orca.capture import IdGenerator, Recorder
from orca.ledger import Entry, Ledger
from orca.orchestrator._agents import AgentHost, Handler
from orca.orchestrator._clock import Clock, SystemClock
from orca.orchestrator._engine import jsonable, reservation_of, run_row
from orca.orchestrator._envelope import Usage
from orca.orchestrator._errors import (
    InvalidRequest,
    PolicyDenied,
    RunNotFinished,
    RunNotFound,
)
from orca.orchestrator._events import read_run_entries
from orca.orchestrator._hooks import (
    AllowAllPolicy,
    BudgetHook,
    NoBudget,
    PolicyHook,
)
from orca.orchestrator._inspect import TaskRow, task_row
from orca.orchestrator._model import Run, RunResult
from orca.orchestrator._payloads import PAYLOAD_INLINE_MAX, Payloads
from orca.orchestrator._retry import RetryPolicy
from orca.orchestrator._snapshot import encode_state, replay, write_snapshot
from orca.orchestrator._state import RunState, TaskState
from orca.orchestrator._submit import Submitter
from orca.orchestrator._tasks import TaskOps
from orca.orchestrator._trace import RunTracer

RUN_STATUSES = ("ok", "error", "cancelled")
DEFAULT_SNAPSHOT_EVERY = 100_000


class Orchestrator(TaskOps, Submitter):
    """A durable, governed task bus for agents. Use :meth:`open`; close it (or use ``with``)."""

    def __init__(self, home: Path, ledger: Ledger, recorder: Recorder, **kw: Any) -> None:
        self.home = home
        self._own_recorder = kw.pop("own_recorder")
        self._snapshot_every = kw.pop("snapshot_every")
        rebuilt = kw.pop("replayed")
        self.payloads = Payloads(home, kw.pop("payload_inline_max"))
        super().__init__(ledger, rebuilt.state, tracer=RunTracer(recorder), **kw)
        self.recorder = recorder
        self.replayed_entries = rebuilt.entries
        self.from_snapshot = rebuilt.from_snapshot
        self.last_entry = rebuilt.last
        self._run_offsets: dict[str, int] = dict(rebuilt.run_offsets)
        self._since_snapshot = rebuilt.entries
        self._agents = AgentHost(self)
        for t in self._state.with_reservation():
            if t.status in ("pending", "leased", "completed"):
                self._restore(t)

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        policy: PolicyHook | None = None,
        budget: BudgetHook | None = None,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
        recorder: Recorder | None = None,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        use_snapshot: bool = True,
        payload_inline_max: int = PAYLOAD_INLINE_MAX,
    ) -> "Orchestrator":
        """Open ``home``'s orchestrator: take its ledger's append lock and rebuild the state.

        ``clock`` (default wall clock; a :class:`VirtualClock` in tests) is read
        for every TTL, lease and backoff. ``seed`` seeds the backoff jitter and
        the ids (random when None; see :attr:`seed`). ``recorder`` is where the
        run's spans go (default: this process's journal in ``home``). Payloads
        whose JSON is larger than ``payload_inline_max`` bytes travel by
        reference through the blob store (see ``_payloads``).
        """
        path = resolve_home(home)
        clock = clock or SystemClock()
        seed = seed if seed is not None else random.SystemRandom().randrange(2**63)
        ledger = Ledger.open(path, clock=lambda: clock.now_ms() * 1_000_000)
        try:
            rebuilt = replay(path, ledger.path, use_snapshot=use_snapshot)
            own = recorder is None
            if recorder is None:
                ids = IdGenerator(seed, clock_ms=clock.now_ms) if seed is not None else None
                recorder = Recorder.open(
                    path, clock=lambda: clock.now_ms() * 1_000_000, ids=ids, heartbeat_s=None
                )
        except BaseException:
            ledger.close()
            raise
        return cls(
            path,
            ledger,
            recorder,
            own_recorder=own,
            snapshot_every=snapshot_every,
            replayed=rebuilt,
            payload_inline_max=payload_inline_max,
            clock=clock,
            policy=policy or AllowAllPolicy(),
            budget=budget or NoBudget(),
            retry=retry or RetryPolicy(),
            seed=seed,
        )

    # -- runs ----------------------------------------------------------------------------------

    def start_run(
        self, workflow: str, *, budget: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> Run:
        """Open a run: its root span goes to the journal, ``run.started`` to the ledger."""
        if not isinstance(workflow, str) or not 0 < len(workflow) <= 200:
            raise InvalidRequest("a run needs a workflow name of 1-200 characters")
        try:
            budget, metadata = jsonable(budget), jsonable(metadata)
        except TypeError as exc:
            raise InvalidRequest(f"run budget and metadata must be JSON: {exc}") from None
        decision = None
        check = getattr(self.policy, "check_start_run", None)  # governance's pre_start_run
        if check is not None:
            decision = check(workflow, budget, metadata)
            if not decision.allowed:
                entry_id = self.record_governance("policy.decision", decision.audit)
                raise PolicyDenied(
                    f"policy-denied: {decision.reason or 'run denied by policy'}",
                    entry_id=entry_id,
                )
            if decision.payload_modified and isinstance(decision.payload, dict):
                metadata = decision.payload.get("metadata")
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            root = self._tracer.start_run(workflow)
            run_id = f"run-{root.trace_id[-16:]}"
            stub = RunState(run_id, root.trace_id, root.span_id, workflow, now)
            action = self._action(
                "run.started",
                stub,
                span=root.span_id,
                args={"workflow": workflow, "budget": budget, "metadata": metadata},
                now=now,
            )
            tickets = self._queue([action])
        entry = self._wait(tickets)[0]
        with self._lock:
            self._run_offsets[run_id] = entry.offset
        if decision is not None and decision.audit is not None:  # allowed, but flagged/modified
            self.record_governance("policy.decision", decision.audit, run=run_id)
        return self.get_run(run_id)

    def _run_state(self, run: "Run | str") -> RunState:
        rid = run.id if isinstance(run, Run) else run
        state = self._state.runs.get(rid) if isinstance(rid, str) else None
        if state is None:
            raise RunNotFound(f"no run {rid!r}; `orca runs` lists them")
        return state

    def get_run(self, run: "Run | str") -> Run:
        """The run as it is now."""
        with self._lock:
            return run_row(self._run_state(run))

    def runs(self) -> list[Run]:
        """Every run, newest first."""
        with self._lock:
            rows = [run_row(r) for r in self._state.runs.values()]
        return sorted(rows, key=lambda r: (r.started_ms, r.id), reverse=True)

    def end_run(self, run: "Run | str", status: str = "ok") -> Run:
        """Close the run; its unfinished tasks are cancelled (``task.cancelled``)."""
        if status not in RUN_STATUSES:
            raise InvalidRequest(f"a run ends ok, error or cancelled, not {status!r}")
        with self._lock:
            self._usable()
            rs = self._run_state(run)
            if rs.status != "open":
                if rs.status == status:
                    return run_row(rs)
                raise InvalidRequest(f"run {rs.id} already ended {rs.status}")
            now = self.clock.now_ms()
            actions = []
            for tid in rs.tasks:
                t = self._state.tasks[tid]
                if not t.terminal:
                    self._end_span(t, "cancelled")
                    actions.append(
                        self._action(
                            "task.cancelled", rs, span=t.enqueue_span, args={"task": tid}, now=now
                        )
                    )
                    self._release(t, rs)
            actions.append(
                self._action("run.ended", rs, span=rs.root_span, args={"status": status}, now=now)
            )
            tickets = self._queue(actions)
            self._tracer.end_run(rs.trace, rs.root_span, rs.id, status)
        self._wait(tickets)
        return self.get_run(run)

    def cancel_run(self, run: "Run | str") -> Run:
        """End the run as ``cancelled``: pending and leased tasks become ``task.cancelled``."""
        return self.end_run(run, "cancelled")

    # -- reading -------------------------------------------------------------------------------

    def tasks(self, run: "Run | str") -> list[TaskRow]:
        """The run's tasks with their attempts and outcomes, oldest first."""
        with self._lock:
            rs = self._run_state(run)
            return [task_row(self._state.tasks[t]) for t in rs.tasks]

    def stream_events(
        self,
        run: "Run | str",
        *,
        start_event_id: int | None = None,
        since: int | None = None,
        max_events: int | None = None,
        follow: bool = False,
        poll_s: float = 0.05,
    ) -> Iterator[Entry]:
        """The run's ledger entries in order; with ``follow``, keep tailing until the run ends."""
        with self._lock:
            rs = self._run_state(run)
            offset = self._run_offsets.get(rs.id, 0)
            rid = rs.id

        def ended() -> bool:
            with self._lock:
                return self._state.runs[rid].status != "open" or self._closed

        return read_run_entries(
            self._ledger.path,
            rid,
            offset=offset,
            start_event_id=start_event_id,
            since=since,
            max_events=max_events,
            follow=follow,
            ended=ended,
            poll_s=poll_s,
        )

    def fetch_result(self, run: "Run | str", *, wait: float | None = None) -> RunResult:
        """The run's last ``agent_result``/``agent_error`` to its caller, else ``RunNotFinished``.

        ``wait`` (seconds) blocks up to that long for it.
        """
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while True:
                rs = self._run_state(run)
                if rs.result_envelope is not None:
                    env = self._state.results[rs.result_envelope]
                    row = run_row(rs)
                    return RunResult(
                        row.id,
                        row.status,
                        env["kind"],
                        self.payloads.unpack(env),
                        env["id"],
                        env["sender"],
                    )
                left = None if deadline is None else deadline - time.monotonic()
                if rs.status != "open" or left is None or left <= 0 or self._closed:
                    state = "is still open" if rs.status == "open" else f"ended {rs.status}"
                    raise RunNotFinished(f"run {rs.id} {state} without a result for its caller")
                self._cond.wait(left)

    # -- agents --------------------------------------------------------------------------------

    def agent(
        self,
        name: str,
        concurrency: int = 1,
        *,
        retry: RetryPolicy | None = None,
        lease_ms: int | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler(task, ctx)`` as agent ``name`` (``serve`` and friends run it)."""
        return self._agents.register(name, concurrency, retry=retry, lease_ms=lease_ms)

    def run_until_idle(self, *, timeout: float | None = None, inline: bool = False) -> int:
        """Run in-process agents until none of their tasks is unfinished; return deliveries made.

        Waits for retries' backoff and running leases (a virtual clock jumps
        there). ``inline`` runs handlers one at a time in this thread (a
        deterministic order, for tests); ``timeout`` bounds the real time spent.
        """
        return self._agents.run(until_idle=True, timeout=timeout, inline=inline)

    def serve(self) -> None:
        """Run in-process agents until :meth:`stop` is called (from another thread or a handler)."""
        self._agents.run(until_idle=False, timeout=None)

    def stop(self) -> None:
        self._agents.stop()

    # -- snapshots and closing -----------------------------------------------------------------

    def _after_commit(self, n: int) -> None:
        """Wake the agent loop (there may be work), and snapshot every ``snapshot_every``."""
        self._agents.wake()
        self._since_snapshot += n
        if self._snapshot_every and self._since_snapshot >= self._snapshot_every:
            self._since_snapshot = 0
            self.snapshot()

    def snapshot(self) -> Path | None:
        """Write a snapshot of the state now (None when the ledger is empty)."""
        with self._cond:
            self._usable()
            self._snapshot_wanted = True  # new operations wait; those in flight finish
            try:
                while self._inflight and self._broken is None:
                    self._cond.wait()
                self._usable_now()
                if self.last_entry is None:
                    return None
                state = encode_state(self._state)
                entry = self.last_entry
                self._since_snapshot = 0
            finally:
                self._snapshot_wanted = False
                self._cond.notify_all()
        return write_snapshot(self.home, state, entry)

    def state_view(self) -> dict[str, Any]:
        """The canonical state (runs, tasks, idempotency index), for comparing and debugging."""
        with self._cond:
            while self._inflight:
                self._cond.wait()
            return self._state.view()

    @property
    def problems(self) -> list[str]:
        """Ledger entries that did not fit the state on replay (reported, never repaired)."""
        return list(self._state.problems)

    def admit_provider_request(self, call: Any) -> Any:
        """The provider edge's ``Governor``: ``instrument(client, governor=orch)`` in a handler.

        The request is governed for the task's run and agent (policy
        ``pre_provider_request``, a budget reservation), with its entries in
        this ledger. Outside a handler there is no run to charge: refused.
        """
        from orca.orchestrator._governance import CURRENT_TASK, Governance

        gov = self.policy
        if not isinstance(gov, Governance):
            raise InvalidRequest(
                "governor=orch needs Orchestrator.open(..., policy=Governance.open(home), "
                "budget=<the same>)"
            )
        current = CURRENT_TASK.get()
        if current is None:
            raise InvalidRequest(
                "governor=orch governs provider calls made inside an agent handler; "
                "elsewhere pass governor=governance.guard(run, agent)"
            )
        run_id, agent = current
        with self._lock:
            run = run_row(self._state.runs[run_id])
        return gov.guard(run, agent).admit_provider_request(call)

    def record_governance(
        self, kind: str, result: Any, *, run: str | None = None, actor: str = "policy"
    ) -> int:
        """Append a governance entry (``policy.reload_rejected``, a provider-edge
        ``policy.decision`` or ``budget.*``) durably; returns its id. Codes only, never payload."""
        from orca.ledger import Action

        with self._lock:
            self._usable()
            rs = self._state.runs.get(run) if run is not None else None
            action = Action(
                kind=kind,
                actor=actor,
                run=run,
                trace=rs.trace if rs else None,
                span=rs.root_span if rs else None,
                result=result,
                meta={"at_ms": self.clock.now_ms()},
            )
            tickets = self._queue([action])
        return self._wait(tickets)[0].id

    def close(self, *, snapshot: bool = True) -> None:
        """Stop agents, snapshot the state, release the ledger. Idempotent."""
        if self._closed:
            return
        self._agents.stop()
        self._agents.join()
        if snapshot and self._broken is None:
            try:
                self.snapshot()
            except OSError:
                pass  # a snapshot is an optimisation; the ledger stays the truth
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._ledger.close()
        if self._own_recorder:
            self.recorder.close()

    def abandon(self) -> None:
        """Drop the orchestrator as a crash would: no snapshot, agents not waited for.

        For tests and the simulation (the ledger is still closed properly, so
        the same process can reopen the home; real crashes are the chaos test's).
        """
        self._agents.stop()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._ledger.close()

    def __enter__(self) -> "Orchestrator":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _restore(self, t: TaskState) -> None:
        """Tell the budget hook about a reservation the ledger holds (and its settlement).

        A completion that reported no usage settled to its estimate live, so it does here too.
        """
        res = reservation_of(t.reservation or {})
        settled = None
        if t.status == "completed":
            settled = Usage.coerce(t.usage) if t.usage is not None else res.amount
        run = run_row(self._state.runs[t.run])
        try:
            self.budget.restore(res, settled, run)
        except Exception:
            self.hook_errors += 1
