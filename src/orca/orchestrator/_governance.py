"""Governance plugged into the orchestrator: the policy and budget hooks, from one home.

``Governance.open(home)`` reads ``<home>/config.toml`` and the policy file,
starts watching the file (a bad new version never replaces the policy in
force), and is both hooks::

    gov = Governance.open(home)
    with Orchestrator.open(home, policy=gov, budget=gov) as orch:
        ...

Envelopes are decided in the ``pre_submit`` phase (``post_submit`` for
results and errors); the budget scope is the run and the envelope's
recipient (the agent that will spend), the estimate is the envelope's
``usage`` hint. Budgets come from ``start_run(budget=…)``, else the home's
default. On open the orchestrator hands every reservation in the ledger back
through :meth:`restore`, so usage survives restarts without re-deciding.
"""

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orca.governance import (
    Budget,
    BudgetBook,
    BudgetEvent,
    BudgetExceeded,
    Decision,
    GovernanceMetrics,
    Guard,
    PolicyEngine,
    PolicyReloader,
    ReloadOutcome,
    ScopeUsage,
    Spend,
    open_engine,
    read_config,
    spend_of,
)
from orca.orchestrator._envelope import Envelope, Usage
from orca.orchestrator._hooks import BudgetDecision, PolicyDecision, Reservation

if TYPE_CHECKING:
    from orca.orchestrator._model import Run

RESULT_KINDS = frozenset({"agent_result", "agent_error"})
# (run id, agent) of the task whose handler is running in this thread/context: what
# ``instrument(client, governor=orch)`` governs provider calls on behalf of.
CURRENT_TASK: ContextVar[tuple[str, str] | None] = ContextVar("orca_current_task", default=None)


def _spend(usage: Usage | None) -> Spend:
    if usage is None:
        return Spend()
    return Spend(usage.input_tokens, usage.output_tokens, usage.cost_usd)


def warning_text(ev: BudgetEvent) -> str:
    """One line for a ``budget.warning`` entry: which run/agent, how far, of which limit."""
    who = f"run {ev.run}" + (f" agent {ev.agent}" if ev.agent else "")
    if ev.kind == "exceeded":
        return f"{who} exceeded its {ev.dimension} budget ({ev.used:g} of {ev.limit:g})"
    return f"{who} at {ev.threshold}% of its {ev.dimension} budget ({ev.used:g} of {ev.limit:g})"


class Governance:
    """A :class:`PolicyEngine` and a :class:`BudgetBook` as the orchestrator's two hooks."""

    def __init__(
        self,
        engine: PolicyEngine,
        book: BudgetBook | None = None,
        *,
        default_budget: Budget | None = None,
        reloader: PolicyReloader | None = None,
        metrics: GovernanceMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.book = book or BudgetBook()
        self.default_budget = default_budget
        self.reloader = reloader
        self.metrics = metrics or GovernanceMetrics()
        self.reload_outcomes: list[ReloadOutcome] = []
        self._held: dict[str, Any] = {}  # orchestrator reservation id → governance Reservation
        self._ids = 0
        self._lock = threading.Lock()
        self._known_runs: set[str] = set()
        self._recorder: Any = None  # Orchestrator.record_governance, once bound
        if engine.on_decision is None:
            engine.on_decision = self.metrics.on_decision

    @classmethod
    def open(cls, home: str | Path, *, watch: bool = True) -> "Governance":
        """The home's policy (watched for changes when ``watch``) and its default budget."""
        setup = open_engine(Path(home))
        gov = cls(setup.engine, default_budget=setup.config.budget)
        reloader = PolicyReloader(setup.engine, setup.config.policy_path, gov._on_reload)
        gov.reloader = reloader
        if watch:
            reloader.start()
        return gov

    def bind(self, orchestrator: Any) -> "Governance":
        """Record what happens outside a submit (reload rejections, the provider edge) in
        ``orchestrator``'s ledger."""
        self._recorder = orchestrator.record_governance
        return self

    def _record(self, kind: str, payload: dict[str, Any], run: str | None = None) -> None:
        if self._recorder is not None:
            self._recorder(kind, payload, run=run, actor=kind.split(".", 1)[0])

    def _on_reload(self, outcome: ReloadOutcome) -> None:
        self.metrics.on_reload(outcome)
        self.reload_outcomes.append(outcome)
        if outcome.status == "rejected":
            self._record("policy.reload_rejected", outcome.audit())

    def close(self) -> None:
        """Stop watching the policy file."""
        if self.reloader is not None:
            self.reloader.stop()

    # -- policy hook ---------------------------------------------------------------------------

    def check_envelope(self, envelope: Envelope, run: "Run") -> PolicyDecision:
        phase = "post_submit" if envelope.kind in RESULT_KINDS else "pre_submit"
        payload = envelope.payload
        doc = payload if isinstance(payload, dict) else {}
        tool, model = doc.get("tool"), doc.get("model")
        d = self.engine.check(
            phase,
            kind=envelope.kind,
            sender=envelope.sender,
            recipient=envelope.recipient,
            tool=tool if isinstance(tool, str) else None,
            model=model if isinstance(model, str) else None,
            payload=payload,
        )
        return self._policy_decision(d)

    def check_start_run(self, workflow: str, budget: Any, metadata: Any) -> PolicyDecision:
        """The ``pre_start_run`` phase (kind ``run``, payload workflow and metadata); a budget
        that is not one raises BudgetError here, before the run exists."""
        Budget.parse(budget)
        d = self.engine.check(
            "pre_start_run", kind="run", payload={"workflow": workflow, "metadata": metadata}
        )
        return self._policy_decision(d)

    def check_result(self, agent: str, kind: str, result: Any) -> PolicyDecision:
        """The ``post_submit`` phase for a handler's returned result (kind ``task_result``)."""
        doc = result if isinstance(result, dict) else {}
        tool = doc.get("tool")
        d = self.engine.check(
            "post_submit",
            kind="task_result",
            sender=agent,
            tool=tool if isinstance(tool, str) else None,
            payload=result,
        )
        return self._policy_decision(d)

    @staticmethod
    def _policy_decision(d: Decision) -> PolicyDecision:
        reason = ", ".join(d.reasons) or None
        return PolicyDecision(
            allowed=d.allowed,
            rule=d.rule,
            reason=reason,
            flagged=d.action == "allow_but_flag",
            payload_modified=d.changed,
            payload=d.payload if d.changed else None,
            audit=d.audit() if d.intervened else None,
        )

    # -- budget hook ---------------------------------------------------------------------------

    def _ensure_run(self, run: "Run") -> None:
        if run.id in self._known_runs:
            return
        self._known_runs.add(run.id)
        self.book.set_budget(run.id, run.budget if run.budget is not None else self.default_budget)

    def _new_id(self, gov_res: Any, agent: str | None) -> str:
        """``<n>@<agent>``: the agent rides in the id the ledger keeps, for :meth:`restore`."""
        with self._lock:
            self._ids += 1
            rid = f"{self._ids}@{agent or ''}"
            self._held[rid] = gov_res
        return rid

    def _parse_id(self, rid: str) -> str | None:
        number, _, agent = rid.partition("@")
        if number.isdigit():
            with self._lock:
                self._ids = max(self._ids, int(number))
        return agent or None

    def reserve(self, envelope: Envelope, run: "Run") -> BudgetDecision:
        self._ensure_run(run)
        agent = envelope.recipient or envelope.sender
        estimate = envelope.usage or Usage()
        try:
            res = self.book.reserve(run.id, agent, _spend(estimate))
        except BudgetExceeded as exc:
            return BudgetDecision(allowed=False, reason=str(exc), audit=exc.audit())
        return BudgetDecision(reservation=Reservation(self._new_id(res, agent), estimate))

    def settle(self, reservation: Reservation, usage: Usage | None, run: "Run") -> Sequence[str]:
        with self._lock:
            res = self._held.pop(reservation.id, None)
        if res is None:
            return ()
        actual = _spend(usage) if usage is not None else None  # none reported: the hint stands
        return [warning_text(ev) for ev in self.book.settle(res, actual)]

    def release(self, reservation: Reservation, run: "Run") -> None:
        with self._lock:
            res = self._held.pop(reservation.id, None)
        if res is not None:
            self.book.release(res)

    def restore(self, reservation: Reservation, settled: Usage | None, run: "Run") -> None:
        """Rebuild from the ledger: settled usage is charged, an open reservation held again."""
        self._ensure_run(run)
        agent = self._parse_id(reservation.id)
        if settled is not None:
            self.book.record(run.id, agent, _spend(settled))
            return
        res = self.book.hold(run.id, agent, _spend(reservation.amount))
        with self._lock:
            self._held[reservation.id] = res

    # -- provider edge -------------------------------------------------------------------------

    def guard(self, run: "Run", agent: str | None = None) -> Guard:
        """A provider-edge governor for ``run`` (and ``agent``): ``instrument(…, governor=…)``.

        Its interventions and budget events go to the bound orchestrator's ledger.
        """
        self._ensure_run(run)

        def audit(kind: str, payload: dict[str, Any]) -> None:
            self._record(kind, payload, run.id)

        return Guard(self.engine, self.book, run=run.id, agent=agent, audit=audit)


@dataclass(frozen=True, slots=True)
class RunGovernance:
    """``orca runs show``'s governance part: usage against budget per scope, and interventions."""

    run: str
    budget: dict[str, Any] | None
    usage: list[ScopeUsage]
    interventions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "usage": [u._asdict() for u in self.usage],
            "interventions": self.interventions,
        }


INTERVENTIONS = ("policy.decision", "budget.warning", "budget.exceeded")


def run_governance(home: str | Path, ref: str) -> RunGovernance:
    """Fold a run's ledger entries into budget usage (per run and agent) and its interventions.

    Read-only, like ``orca runs``: completed tasks charge their recipient,
    open reservations show as reserved, provider-edge ``budget.settled``
    entries add theirs. The budget is the run's own, else the home's default.
    """
    from orca.ledger import ledger_path
    from orca.orchestrator._events import read_run_entries
    from orca.orchestrator._inspect import find_run, read_state

    path = Path(home)
    st = read_state(path)
    r = find_run(st, ref)
    budget = Budget.parse(r.budget) if r.budget is not None else read_config(path).budget
    book = BudgetBook()
    book.set_budget(r.id, budget)
    for tid in r.tasks:
        t = st.tasks[tid]
        if t.status == "completed":
            reserved = (t.reservation or {}).get("amount")  # no usage reported: the hint stood
            used = t.usage if t.usage is not None else reserved
            if used:
                book.record(r.id, t.recipient, spend_of(used))
        elif t.reservation and t.status in ("pending", "leased"):
            amount = t.reservation.get("amount") or {}
            book.hold(r.id, t.recipient, spend_of(amount))
    interventions: list[dict[str, Any]] = []
    for e in read_run_entries(ledger_path(path), r.id):
        if e.kind == "budget.settled" and isinstance(e.result, dict):
            book.apply(e.kind, {**e.result, "run": r.id})
        elif e.kind in INTERVENTIONS:
            body = e.result if isinstance(e.result, dict) else {"value": e.result}
            interventions.append({"entry": e.id, "kind": e.kind, **body})
    return RunGovernance(
        r.id,
        budget.model_dump(exclude_none=True) if budget else None,
        book.usage(r.id),
        interventions,
    )
