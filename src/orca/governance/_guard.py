"""The provider edge, governed: policy and budget before a request leaves the process.

:class:`Guard` has the shape of the ``Governor`` protocol that
``orca.integrations`` defines (governance may not import integrations, so the
match is structural). The orchestrator builds one per run and agent and hands
it to ``instrument(client, governor=…)``; a script without an orchestrator
can build one directly. ``audit`` receives each intervention and budget event
as ``(kind, payload)`` — ``policy.decision``, ``budget.warning``,
``budget.exceeded`` — for the caller to record; payloads never hold the
request text.
"""

import logging
from collections.abc import Callable
from typing import Any, Protocol

from orca.governance._budget import BudgetBook, Reservation, Spend, settled_entry
from orca.governance._engine import PolicyEngine
from orca.governance._errors import BudgetExceeded, PolicyDenied
from orca.governance._policy import Decision

_log = logging.getLogger("orca.governance")
Audit = Callable[[str, dict[str, Any]], None]


class _Estimate(Protocol):
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ProviderCallLike(Protocol):
    """What the integrations hand over: see ``orca.integrations.ProviderCall``."""

    @property
    def model(self) -> str | None: ...
    @property
    def body(self) -> Any: ...
    @property
    def estimate(self) -> _Estimate: ...
    def reestimate(self, body: Any) -> _Estimate: ...


class Admission:
    """An admitted provider request: the body to send (None: unchanged) and its reservation."""

    __slots__ = ("_done", "_guard", "body", "decision", "reservation")

    def __init__(
        self, guard: "Guard", body: Any, decision: Decision, reservation: Reservation
    ) -> None:
        self._guard = guard
        self._done = False
        self.body = body
        self.decision = decision
        self.reservation = reservation

    def settle(self, input_tokens: int, output_tokens: int, cost_usd: float | None) -> None:
        """The response reported its usage: charge it, release the rest of the estimate."""
        if self._done:
            return
        self._done = True
        est = self.reservation.estimate
        actual = Spend(input_tokens, output_tokens, est.cost_usd if cost_usd is None else cost_usd)
        self._guard._settled(self.reservation, actual)

    def settle_estimate(self) -> None:
        """No usage came back (the stream was cut): charge the whole estimate."""
        if self._done:
            return
        self._done = True
        self._guard._settled(self.reservation, self.reservation.estimate)

    def release(self) -> None:
        """The request never reached the provider: give the estimate back."""
        if self._done:
            return
        self._done = True
        self._guard.book.release(self.reservation)


class Guard:
    """Decides and reserves for one run (and agent) at the provider edge."""

    def __init__(
        self,
        engine: PolicyEngine,
        book: BudgetBook,
        *,
        run: str,
        agent: str | None = None,
        audit: Audit | None = None,
    ) -> None:
        self.engine = engine
        self.book = book
        self.run = run
        self.agent = agent
        self.audit = audit

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.audit is None:
            return
        try:
            self.audit(kind, payload)
        except Exception as exc:
            _log.warning("orca: governance audit hook failed: %r", exc)

    def _settled(self, reservation: Reservation, actual: Spend) -> None:
        events = self.book.settle(reservation, actual)
        self._emit("budget.settled", settled_entry(self.run, self.agent, actual))
        for ev in events:
            self._emit(f"budget.{ev.kind}", ev.audit())

    def admit_provider_request(self, call: ProviderCallLike) -> Admission:
        """Policy, then budget; raises PolicyDenied / BudgetExceeded before anything is sent."""
        decision = self.engine.check(
            "pre_provider_request", sender=self.agent, model=call.model, payload=call.body
        )
        if decision.intervened:
            self._emit(
                "policy.decision", {**decision.audit(), "run": self.run, "agent": self.agent}
            )
        if not decision.allowed:
            raise PolicyDenied.of(decision)
        body = decision.payload if decision.changed else None
        est = call.estimate if body is None else call.reestimate(body)
        try:
            reservation = self.book.reserve(
                self.run, self.agent, Spend(est.input_tokens, est.output_tokens, est.cost_usd)
            )
        except BudgetExceeded as exc:
            self._emit("budget.exceeded", {**exc.audit(), "phase": "pre_provider_request"})
            raise
        return Admission(self, body, decision, reservation)
