"""Metrics hooks: counters and gauges the server's ``/metrics`` exposes.

Governance keeps no metrics library: it counts into plain rows
(:class:`MetricSample`) and the server maps them onto prometheus_client.
Names follow Prometheus conventions: ``orca_policy_decisions_total{phase,action}``,
``orca_policy_reload_rejected_total``, ``orca_budget_used{run,scope,dimension}``,
``orca_budget_reserved{…}`` and ``orca_budget_limit{…}``.
"""

import threading
from typing import NamedTuple

from orca.governance._budget import BudgetBook
from orca.governance._policy import Decision
from orca.governance._reload import ReloadOutcome


class MetricSample(NamedTuple):
    """One sample: a metric name, its labels (sorted pairs) and the value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


class GovernanceMetrics:
    """Counts decisions and reload rejections; reads budget gauges from a book on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decisions: dict[tuple[str, str], int] = {}
        self.reload_rejected = 0

    def on_decision(self, decision: Decision) -> None:
        """The :class:`PolicyEngine` ``on_decision`` hook."""
        key = (decision.phase, decision.action)
        with self._lock:
            self._decisions[key] = self._decisions.get(key, 0) + 1

    def on_reload(self, outcome: ReloadOutcome) -> None:
        """The :class:`PolicyReloader` ``on_outcome`` hook."""
        if outcome.status == "rejected":
            with self._lock:
                self.reload_rejected += 1

    def decisions(self, phase: str, action: str) -> int:
        with self._lock:
            return self._decisions.get((phase, action), 0)

    def samples(
        self, book: BudgetBook | None = None, runs: tuple[str, ...] = ()
    ) -> list[MetricSample]:
        """Every counter, then the budget gauges of ``runs`` in ``book``."""
        with self._lock:
            out = [
                MetricSample("orca_policy_decisions_total", (("action", a), ("phase", p)), float(n))
                for (p, a), n in sorted(self._decisions.items())
            ]
            out.append(MetricSample("orca_policy_reload_rejected_total", (), self.reload_rejected))
        if book is not None:
            for run in runs:
                for row in book.usage(run):
                    labels = (("dimension", row.dimension), ("run", run), ("scope", row.scope))
                    out.append(MetricSample("orca_budget_used", labels, row.used))
                    out.append(MetricSample("orca_budget_reserved", labels, row.reserved))
                    if row.limit is not None:
                        out.append(MetricSample("orca_budget_limit", labels, row.limit))
        return out
