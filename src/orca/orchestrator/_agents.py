"""In-process agents: handlers the orchestrator delivers tasks to itself.

A handler is ``handler(task, ctx) -> result``. Returning completes the task
with that result; raising fails it (retried, unless it raised
``TaskFailed(..., retryable=False)``). ``ctx.span`` is the delivery span,
``ctx.log`` logs on it, ``ctx.submit`` hands work on with the causal link
recorded, ``ctx.heartbeat`` keeps a long task's lease.

The loop is a thin wrapper around one step (sweep, then claim for every
agent with a free slot): ``run_until_idle`` stops when none of the agents'
tasks is left unfinished, jumping a virtual clock to the next timer
(a retry's backoff, a lease's end) when nothing else can happen; ``serve``
goes on until ``stop``.
"""

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orca.capture import Logger, Span
from orca.orchestrator._envelope import Ack, Envelope, Usage
from orca.orchestrator._errors import (
    InvalidRequest,
    LeaseLost,
    OrchestratorClosed,
    TaskFailed,
)
from orca.orchestrator._governance import CURRENT_TASK
from orca.orchestrator._model import Task
from orca.orchestrator._retry import RetryPolicy

if TYPE_CHECKING:
    from orca.orchestrator._orchestrator import Orchestrator

# An agent's code: called with each leased task and its context; its return value is the result.
Handler = Callable[[Task, "TaskContext"], Any]
IDLE_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    handler: Handler
    concurrency: int
    lease_ms: int | None


class TaskContext:
    """What a handler gets beside its task: its span, a logger, hand-off, heartbeat."""

    def __init__(self, orch: "Orchestrator", agent: str, task: Task, span: Span) -> None:
        self.orchestrator = orch
        self.agent = agent
        self.task = task
        self.span = span
        self.usage: Usage | None = None

    @property
    def log(self) -> Logger:
        return self.span.log

    def submit(self, envelope: Envelope | Mapping[str, Any] | None = None, **fields: Any) -> Ack:
        """Hand off: ``run``, ``sender`` (this agent) and ``parent`` (this span) are filled in."""
        data = dict(envelope.to_dict() if isinstance(envelope, Envelope) else envelope or {})
        data.update(fields)
        data.setdefault("run", self.task.run)
        data.setdefault("sender", self.agent)
        data.setdefault("parent", self.span.span_id)
        if data.get("created_ms") is None:
            data.pop("created_ms", None)
        return self.orchestrator.submit(data)

    def heartbeat(self, lease_ms: int | None = None) -> int:
        """Extend this delivery's lease; returns its new end (Unix ms)."""
        return self.orchestrator.heartbeat(
            self.task.id, attempt=self.task.attempt, lease_ms=lease_ms
        )

    def set_usage(
        self, input_tokens: int = 0, output_tokens: int = 0, cost_usd: float = 0.0
    ) -> None:
        """What this delivery really used; recorded on completion and settled against the budget."""
        self.usage = Usage(input_tokens, output_tokens, cost_usd)


class AgentHost:
    """Registered agents and the loop that feeds them."""

    def __init__(self, orch: "Orchestrator") -> None:
        self._orch = orch
        self._specs: dict[str, AgentSpec] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._running: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self._loop_done = threading.Event()
        self._loop_done.set()
        self.delivered = 0

    def register(
        self, name: str, concurrency: int, *, retry: RetryPolicy | None, lease_ms: int | None
    ) -> Callable[[Handler], Handler]:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequest(f"agent {name!r}: concurrency must be at least 1")
        self._orch.configure_agent(name, retry=retry, lease_ms=lease_ms)

        def deco(handler: Handler) -> Handler:
            if not callable(handler):
                raise InvalidRequest(f"agent {name!r}: the handler must be callable")
            self._specs[name] = AgentSpec(name, handler, concurrency, lease_ms)
            return handler

        return deco

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Something changed (an envelope accepted, a task finished): look for work now."""
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        return self._loop_done.wait(timeout)

    def run(self, *, until_idle: bool, timeout: float | None, inline: bool = False) -> int:
        """The loop: sweep and claim, deliver, and (until idle) jump/wait to the next timer."""
        if until_idle and not self._specs:
            return 0
        self._stop.clear()
        self._loop_done.clear()
        start = self.delivered
        deadline = None if timeout is None else time.monotonic() + timeout
        workers = max(1, sum(s.concurrency for s in self._specs.values()))
        pool = None if inline else ThreadPoolExecutor(workers, thread_name_prefix="orca-agent")
        try:
            while not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._wake.clear()
                claimed = self._step(pool)
                if claimed:
                    continue
                if self._busy():
                    self._wake.wait(IDLE_POLL_S)
                    continue
                nxt = self._next_timer()
                if nxt is None:
                    if until_idle:
                        break
                    self._wake.wait(IDLE_POLL_S)
                    continue
                if nxt > self._orch.clock.now_ms():
                    self._orch.clock.sleep_until(nxt, self._wake)
        except OrchestratorClosed:
            if not self._stop.is_set():
                raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            self._loop_done.set()
        return self.delivered - start

    def _busy(self) -> bool:
        with self._count_lock:
            return any(self._running.values())

    def _step(self, pool: ThreadPoolExecutor | None) -> int:
        claimed = 0
        for spec in list(self._specs.values()):  # agents registered while serving count too
            with self._count_lock:
                free = spec.concurrency - self._running.get(spec.name, 0)
            if free <= 0:
                continue
            tasks = self._orch.claim(spec.name, lease_ms=spec.lease_ms, max_tasks=free)
            claimed += len(tasks)
            for task in tasks:
                with self._count_lock:
                    self._running[spec.name] = self._running.get(spec.name, 0) + 1
                if pool is None:
                    self._deliver(spec, task)
                else:
                    pool.submit(self._deliver, spec, task)
        return claimed

    def _next_timer(self) -> int | None:
        """When one of our agents' unfinished tasks next needs attention (None: none left)."""
        return self._orch._next_timer_for(set(self._specs))

    def _deliver(self, spec: AgentSpec, task: Task) -> None:
        orch = self._orch
        span = orch._tracer.handle(task.trace_id, task.span_id, spec.name)
        ctx = TaskContext(orch, spec.name, task, span)
        current = CURRENT_TASK.set((task.run, spec.name))  # whom governor=orch governs for
        try:
            try:
                result = spec.handler(task, ctx)
            except TaskFailed as exc:
                orch.fail(task.id, str(exc), retryable=exc.retryable, attempt=task.attempt)
            except Exception as exc:
                orch.fail(task.id, f"{type(exc).__name__}: {exc}", attempt=task.attempt)
            else:
                try:
                    orch.complete(task.id, result, usage=ctx.usage, attempt=task.attempt)
                except InvalidRequest as exc:
                    orch.fail(
                        task.id,
                        f"the handler's result cannot be recorded: {exc}",
                        attempt=task.attempt,
                    )
        except (LeaseLost, OrchestratorClosed):
            pass  # the lease ran out meanwhile (the task was redelivered), or we are stopping
        finally:
            CURRENT_TASK.reset(current)
            with self._count_lock:
                self._running[spec.name] -= 1
                self.delivered += 1
            self._wake.set()
