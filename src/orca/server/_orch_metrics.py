"""Orchestrator metrics as a projection of the ledger: each scrape folds in the new entries.

The ledger already records every envelope, task transition, run and policy
decision, so the counters are read from it rather than counted a second
time in the request path: a scrape reads the entries appended since the last
one (``orca.ledger.read_entries`` from a byte offset) and folds them in. The
totals therefore cover the ledger's whole history, also across restarts.
Labels stay low-cardinality: outcome, rejection code, agent, workflow —
never a run, task or trace id.
"""

import threading
from collections import Counter as Tally
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from orca.errors import OrcaError
from orca.ledger import Entry, read_entries

RUN_BUCKETS: Final = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)
TASK_OUTCOMES: Final = {
    "task.completed": "completed",
    "task.failed": "failed",
    "task.dead_lettered": "dead_lettered",
    "task.expired": "expired",
    "task.cancelled": "cancelled",
    "task.lease_expired": "lease_expired",
}
MAX_TRACKED: Final = 100_000  # open runs / claimed tasks remembered for duration and agent labels


class LedgerMetrics(Collector):
    """Envelopes, tasks, attempts, runs, usage and policy decisions from the home's ledger."""

    def __init__(self, home: Path) -> None:
        self._home = home
        self._offset = 0
        self._lock = threading.Lock()
        self.envelopes: Tally[tuple[str, str]] = Tally()  # (outcome, code)
        self.tasks: Tally[str] = Tally()
        self.attempts: Tally[str] = Tally()  # by agent
        self.tokens: Tally[tuple[str, str]] = Tally()  # (agent, direction)
        self.cost: dict[str, float] = {}  # by agent
        self.policy: Tally[str] = Tally()  # by action
        self.budget_warnings = 0
        self._run_start: dict[str, tuple[int, str]] = {}
        self._task_agent: dict[str, str] = {}
        self.run_seconds = Histogram(
            "orca_run_duration_seconds",
            "Time from run.started to run.ended",
            ["workflow", "status"],
            buckets=RUN_BUCKETS,
            registry=None,
        )

    def fold(self) -> None:
        """Read and count the entries appended since the last fold."""
        with self._lock:
            try:
                got = read_entries(self._home, self._offset)
            except (OrcaError, OSError):
                return  # a damaged ledger is /readyz's and `orca verify`'s to report
            self._offset = got.next_offset
            for e in got.entries:
                self._one(e)

    def _one(self, e: Entry) -> None:
        kind = e.kind
        args: dict[str, Any] = e.args if isinstance(e.args, dict) else {}
        result: dict[str, Any] = e.result if isinstance(e.result, dict) else {}
        meta: dict[str, Any] = e.meta if isinstance(e.meta, dict) else {}
        if kind == "envelope.accepted":
            self.envelopes["accepted", ""] += 1
            pol = meta.get("policy")
            if isinstance(pol, dict):
                action = (
                    "modify" if pol.get("modified") else "flag" if pol.get("flagged") else "allow"
                )
                self.policy[action] += 1
        elif kind == "envelope.rejected":
            code = str(result.get("code", "unknown"))
            self.envelopes["rejected", code] += 1
            if code == "policy-denied":
                self.policy["deny"] += 1
        elif kind == "task.claimed":
            agent = str(args.get("agent", "unknown"))
            self.attempts[agent] += 1
            if len(self._task_agent) < MAX_TRACKED:
                self._task_agent[str(args.get("task"))] = agent
        elif kind in TASK_OUTCOMES:
            self.tasks[TASK_OUTCOMES[kind]] += 1
            task = str(args.get("task"))
            if kind == "task.completed":
                self._usage(self._task_agent.get(task, "unknown"), meta.get("usage"))
            if kind != "task.failed" and kind != "task.lease_expired":
                self._task_agent.pop(task, None)
        elif kind == "run.started" and e.run is not None and len(self._run_start) < MAX_TRACKED:
            self._run_start[e.run] = (e.ts, str(args.get("workflow", "unknown")))
        elif kind == "run.ended" and e.run in self._run_start:
            started, workflow = self._run_start.pop(e.run)
            status = str(args.get("status", "ok"))
            self.run_seconds.labels(workflow, status).observe(max(e.ts - started, 0) / 1e9)
        elif kind == "budget.warning":
            self.budget_warnings += 1

    def _usage(self, agent: str, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        for direction in ("input", "output"):
            n = usage.get(f"{direction}_tokens")
            if isinstance(n, int) and n > 0:
                self.tokens[agent, direction] += n
        cost = usage.get("cost_usd")
        if isinstance(cost, int | float) and cost > 0:
            self.cost[agent] = self.cost.get(agent, 0.0) + float(cost)

    def collect(self) -> Iterable[Metric]:
        self.fold()
        with self._lock:
            env = CounterMetricFamily(
                "orca_envelopes",
                "Envelopes accepted or rejected (by code)",
                labels=["outcome", "code"],
            )
            for (outcome, code), n in sorted(self.envelopes.items()):
                env.add_metric([outcome, code], n)
            tasks = CounterMetricFamily("orca_tasks", "Task outcomes", labels=["outcome"])
            for outcome, n in sorted(self.tasks.items()):
                tasks.add_metric([outcome], n)
            attempts = CounterMetricFamily(
                "orca_delivery_attempts", "Tasks claimed (each delivery attempt)", labels=["agent"]
            )
            for agent, n in sorted(self.attempts.items()):
                attempts.add_metric([agent], n)
            tokens = CounterMetricFamily(
                "orca_agent_tokens", "Tokens reported on completions", labels=["agent", "direction"]
            )
            for (agent, direction), n in sorted(self.tokens.items()):
                tokens.add_metric([agent, direction], n)
            cost = CounterMetricFamily(
                "orca_agent_cost_usd", "Cost reported on completions, USD", labels=["agent"]
            )
            for agent, usd in sorted(self.cost.items()):
                cost.add_metric([agent], usd)
            policy = CounterMetricFamily(
                "orca_envelope_policy_decisions",
                "Policy outcomes on envelopes, from the ledger",
                labels=["action"],
            )
            for action, n in sorted(self.policy.items()):
                policy.add_metric([action], n)
            warnings = CounterMetricFamily("orca_budget_warnings", "Budget warnings recorded")
            warnings.add_metric([], self.budget_warnings)
            families = [env, tasks, attempts, tokens, cost, policy, warnings]
        yield from families
        yield from self.run_seconds.collect()
