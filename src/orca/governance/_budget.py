"""Budgets: per run and per agent, tokens and cost, reserved before and settled after.

The classic overspend is check-then-increment: two requests each see room
for themselves and both go. Here an action *reserves* its estimate under one
lock — the check and the reservation are one step — and later *settles* to
what it really used, releasing the difference. N concurrent reservations whose
total exceeds what is left admit exactly those that fit.

Cost is kept in integer nano-dollars so sums are exact and a limit reached
"exactly" is reached, not missed by a float rounding.

Warnings at 80% and 90% of a limit are reported once each per scope (the
run, or one agent in it) and dimension; the book remembers what it warned,
and :meth:`BudgetBook.note_warning` restores that memory when a run is
rebuilt from the ledger.
"""

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orca.governance._errors import BudgetError, BudgetExceeded

# What a budget can cap, in the order a scope's limits and usage are kept.
DIMENSIONS: Final = ("input_tokens", "output_tokens", "total_tokens", "cost_usd")
THRESHOLDS: Final = (80, 90)  # percent of a limit at which one "warning" event is raised
NANO: Final = 1_000_000_000


class Limits(BaseModel):
    """Limits of one scope; every key optional (absent: no limit on it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: int | None = Field(default=None, ge=0, strict=True)
    output_tokens: int | None = Field(default=None, ge=0, strict=True)
    total_tokens: int | None = Field(default=None, ge=0, strict=True)
    cost_usd: float | None = Field(default=None, ge=0)


class Budget(Limits):
    """A run's budget: its own limits and, under ``per_agent``, each agent's."""

    per_agent: dict[str, Limits] = Field(default_factory=dict)

    @classmethod
    def parse(cls, value: "Budget | Mapping[str, Any] | None") -> "Budget | None":
        """A Budget from a dict (``start_run(budget=…)``, the home config); BudgetError if bad."""
        if value is None or isinstance(value, Budget):
            return value
        try:
            return cls.model_validate(dict(value))
        except (ValidationError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                err = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in err["loc"])
                raise BudgetError(f"budget {where}: {err['msg']}") from None
            raise BudgetError(f"budget must be a mapping of limits: {exc}") from None


class Spend(NamedTuple):
    """Usage (actual or estimated) of one action."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def spend_of(payload: Mapping[str, Any]) -> Spend:
    """A Spend from a usage mapping (an envelope's ``usage`` hint, a ledger payload)."""

    def num(key: str) -> float:
        value = payload.get(key)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else 0

    return Spend(int(num("input_tokens")), int(num("output_tokens")), float(num("cost_usd")))


def settled_entry(run: str, agent: str | None, actual: Spend) -> dict[str, Any]:
    """The ledger payload of ``budget.settled``: counts only, so a restart can rebuild usage."""
    return {"run": run, "agent": agent, **actual._asdict()}


Vector = tuple[int, int, int, int]  # input, output, total, cost in nano-USD
_ZERO: Final[Vector] = (0, 0, 0, 0)


def _vec(s: Spend) -> Vector:
    i, o = max(0, int(s.input_tokens)), max(0, int(s.output_tokens))
    return (i, o, i + o, max(0, round(float(s.cost_usd) * NANO)))


def _limits(lim: Limits) -> tuple[int | None, ...]:
    cost = None if lim.cost_usd is None else round(lim.cost_usd * NANO)
    return (lim.input_tokens, lim.output_tokens, lim.total_tokens, cost)


def _add(a: Vector, b: Vector, sign: int = 1) -> Vector:
    return (a[0] + sign * b[0], a[1] + sign * b[1], a[2] + sign * b[2], a[3] + sign * b[3])


def _human(dim: int, v: int) -> float:
    return v / NANO if dim == 3 else float(v)


class Reservation(NamedTuple):
    """An admitted estimate, held until settled or released."""

    id: int
    run: str
    agent: str | None
    estimate: Spend


class BudgetEvent(NamedTuple):
    """A warning (80/90%) or an overrun found when usage was settled."""

    kind: str  # "warning" | "exceeded"
    run: str
    agent: str | None
    dimension: str
    threshold: int
    used: float
    limit: float

    def audit(self) -> dict[str, Any]:
        """The ledger payload of ``budget.warning`` / ``budget.exceeded``."""
        return self._asdict()


class ScopeUsage(NamedTuple):
    """One row of ``orca runs show``: a scope's use of one dimension against its limit."""

    scope: str  # "run" or "agent:<name>"
    dimension: str
    used: float
    reserved: float
    limit: float | None


@dataclass
class _Scope:
    limits: tuple[int | None, ...] = (None, None, None, None)
    used: Vector = _ZERO
    reserved: Vector = _ZERO
    warned: set[tuple[int, int]] = field(default_factory=set)


@dataclass
class _Run:
    budget: Budget | None = None
    run_scope: _Scope = field(default_factory=_Scope)
    agents: dict[str, _Scope] = field(default_factory=dict)
    open: dict[int, Reservation] = field(default_factory=dict)

    def scope(self, agent: str | None) -> _Scope | None:
        if agent is None:
            return None
        sc = self.agents.get(agent)
        if sc is None:
            lim = self.budget.per_agent.get(agent) if self.budget else None
            sc = self.agents[agent] = _Scope(_limits(lim) if lim else (None,) * 4)
        return sc


class BudgetBook:
    """Every run's budget, usage and open reservations; thread-safe, one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._ids = itertools.count(1)

    def set_budget(self, run: str, budget: Budget | Mapping[str, Any] | None) -> None:
        """Give ``run`` its budget (None: unlimited). Usage so far is kept."""
        parsed = Budget.parse(budget)
        with self._lock:
            r = self._runs.setdefault(run, _Run())
            r.budget = parsed
            r.run_scope.limits = _limits(parsed) if parsed else (None,) * 4
            for name, sc in r.agents.items():
                lim = parsed.per_agent.get(name) if parsed else None
                sc.limits = _limits(lim) if lim else (None,) * 4

    def budget(self, run: str) -> Budget | None:
        r = self._runs.get(run)
        return r.budget if r else None

    def reserve(self, run: str, agent: str | None, estimate: Spend) -> Reservation:
        """Admit ``estimate`` or raise :class:`BudgetExceeded`; check and hold are one step."""
        est = _vec(estimate)
        with self._lock:
            r = self._runs.setdefault(run, _Run())
            scopes = [("run", r.run_scope)]
            agent_scope = r.scope(agent)
            if agent_scope is not None:
                scopes.append((f"agent:{agent}", agent_scope))
            for label, sc in scopes:
                for dim, limit in enumerate(sc.limits):
                    if limit is None:
                        continue
                    held = sc.used[dim] + sc.reserved[dim]
                    if held + est[dim] > limit or (est[dim] == 0 and held >= limit):
                        raise BudgetExceeded.of(
                            run,
                            agent,
                            label,
                            DIMENSIONS[dim],
                            _human(dim, limit),
                            _human(dim, held + est[dim]),
                        )
            for _, sc in scopes:
                sc.reserved = _add(sc.reserved, est)
            res = Reservation(next(self._ids), run, agent, estimate)
            r.open[res.id] = res
            return res

    def hold(self, run: str, agent: str | None, estimate: Spend) -> Reservation:
        """Hold ``estimate`` unchecked (a reservation admitted before a restart, restored)."""
        est = _vec(estimate)
        with self._lock:
            r = self._runs.setdefault(run, _Run())
            r.run_scope.reserved = _add(r.run_scope.reserved, est)
            sc = r.scope(agent)
            if sc is not None:
                sc.reserved = _add(sc.reserved, est)
            res = Reservation(next(self._ids), run, agent, estimate)
            r.open[res.id] = res
            return res

    def settle(self, reservation: Reservation, actual: Spend | None = None) -> list[BudgetEvent]:
        """Replace the estimate by ``actual`` (None: the estimate stands); returns new events.

        Settling twice, or a released reservation, does nothing.
        """
        with self._lock:
            r = self._runs.get(reservation.run)
            if r is None or r.open.pop(reservation.id, None) is None:
                return []
            est = _vec(reservation.estimate)
            got = _vec(actual if actual is not None else reservation.estimate)
            return self._charge(r, reservation.run, reservation.agent, got, est)

    def release(self, reservation: Reservation) -> None:
        """Give the whole estimate back: the action did not happen."""
        with self._lock:
            r = self._runs.get(reservation.run)
            if r is None or r.open.pop(reservation.id, None) is None:
                return
            est = _vec(reservation.estimate)
            r.run_scope.reserved = _add(r.run_scope.reserved, est, -1)
            sc = r.scope(reservation.agent)
            if sc is not None:
                sc.reserved = _add(sc.reserved, est, -1)

    def record(self, run: str, agent: str | None, actual: Spend) -> list[BudgetEvent]:
        """Usage that was never reserved (a provider span, ``complete(usage=…)``, a replay)."""
        with self._lock:
            r = self._runs.setdefault(run, _Run())
            return self._charge(r, run, agent, _vec(actual), _ZERO)

    def note_warning(self, run: str, agent: str | None, dimension: str, threshold: int) -> None:
        """Remember a warning already recorded (rebuilding from the ledger): never twice."""
        with self._lock:
            r = self._runs.setdefault(run, _Run())
            sc = r.scope(agent) if agent is not None else r.run_scope
            if sc is not None and dimension in DIMENSIONS:
                sc.warned.add((DIMENSIONS.index(dimension), int(threshold)))

    def apply(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Fold one ledger entry into the book (rebuilding after a restart).

        ``budget.settled`` adds its usage; ``budget.warning`` and
        ``budget.exceeded`` (an overrun) are remembered so they are not
        reported twice. Other kinds are ignored.
        """
        run = payload.get("run")
        if not isinstance(run, str):
            return
        agent = payload.get("agent") if isinstance(payload.get("agent"), str) else None
        if kind == "budget.settled":
            self.record(run, agent, spend_of(payload))
        elif kind in ("budget.warning", "budget.exceeded") and "threshold" in payload:
            self.note_warning(run, agent, str(payload.get("dimension")), int(payload["threshold"]))

    def _charge(
        self, r: _Run, run: str, agent: str | None, got: Vector, est: Vector
    ) -> list[BudgetEvent]:
        events: list[BudgetEvent] = []
        for sc, who in ((r.run_scope, None), (r.scope(agent), agent)):
            if sc is None:
                continue
            sc.reserved = _add(sc.reserved, est, -1)
            before = sc.used
            sc.used = _add(sc.used, got)
            for dim, limit in enumerate(sc.limits):
                if limit is None or sc.used[dim] == before[dim]:
                    continue
                name = DIMENSIONS[dim]
                used, lim = _human(dim, sc.used[dim]), _human(dim, limit)
                for t in THRESHOLDS:
                    if sc.used[dim] * 100 >= limit * t and (dim, t) not in sc.warned:
                        sc.warned.add((dim, t))
                        events.append(BudgetEvent("warning", run, who, name, t, used, lim))
                if sc.used[dim] > limit and (dim, 100) not in sc.warned:
                    sc.warned.add((dim, 100))  # an overrun (actual above the estimate): once
                    events.append(BudgetEvent("exceeded", run, who, name, 100, used, lim))
        return events

    def usage(self, run: str) -> list[ScopeUsage]:
        """Rows of every scope of ``run`` and every dimension that has a limit or a use."""
        with self._lock:
            r = self._runs.get(run)
            if r is None:
                return []
            rows: list[ScopeUsage] = []
            scopes = [("run", r.run_scope)] + [
                (f"agent:{a}", s) for a, s in sorted(r.agents.items())
            ]
            for label, sc in scopes:
                for dim, limit in enumerate(sc.limits):
                    if limit is None and sc.used[dim] == 0 and sc.reserved[dim] == 0:
                        continue
                    rows.append(
                        ScopeUsage(
                            label,
                            DIMENSIONS[dim],
                            _human(dim, sc.used[dim]),
                            _human(dim, sc.reserved[dim]),
                            None if limit is None else _human(dim, limit),
                        )
                    )
            return rows

    def forget_run(self, run: str) -> None:
        """Drop a finished run's state (its ledger entries remain the record)."""
        with self._lock:
            self._runs.pop(run, None)
