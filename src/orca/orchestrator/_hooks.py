"""The governance hooks: what the orchestrator asks before it accepts an envelope.

The orchestrator may not import governance; governance hands it objects that
satisfy these protocols (``Orchestrator.open(policy=..., budget=...)``). The
defaults allow everything and reserve nothing.

Call points, in the order of the submit checks (protocol → run open → TTL →
idempotency → **policy** → **budget** → ledger append → deliver):

* ``policy.check_envelope(envelope, run)`` → :class:`PolicyDecision`.
  ``allowed=False`` rejects with ``policy-denied``; the entry names ``rule``
  and ``reason`` (never the payload). ``payload_modified=True`` replaces the
  payload with ``payload`` (redaction) before anything is recorded;
  ``flagged=True`` (allow_but_flag) accepts and records the flag. A hook that
  raises is a deny (fail closed), reason "policy hook failed: …".
* ``budget.reserve(envelope, run)`` → :class:`BudgetDecision`, after the
  policy allowed it. ``allowed=False`` rejects with ``budget-exceeded``.
  ``reservation`` (optional) is recorded in the ``envelope.accepted`` entry
  and handed back exactly once later: to ``settle(reservation, usage, run)``
  when the task completes (``usage`` is what ``complete`` reported, else
  None), or to ``release(reservation, run)`` when it ends otherwise
  (dead-lettered, expired, cancelled). ``settle`` returns warning messages
  ("run r-1 at 80% of its token budget"); each becomes a ``budget.warning``
  entry. ``warnings`` on a decision are recorded the same way. A hook that
  raises on reserve is a rejection (fail closed); on settle/release it is
  counted (``Orchestrator.hook_errors``) and recording goes on.
* ``budget.restore(reservation, settled, run)`` on open, while state is
  rebuilt from the ledger: each reservation the ledger holds, with its
  settled usage (None while open) — a hook that keeps totals in memory
  rebuilds them here instead of re-deciding anything. ``released`` ones are
  not restored.

Hooks are called with the orchestrator's state lock held: they must be quick
and must not call back into the orchestrator.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from orca.orchestrator._envelope import Envelope, Usage

if TYPE_CHECKING:
    from orca.orchestrator._model import Run


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """A policy's answer for one envelope (see the module docstring for each field's effect)."""

    allowed: bool = True
    rule: str | None = None
    reason: str | None = None
    flagged: bool = False
    payload_modified: bool = False
    payload: Any = None
    audit: Any = None  # an intervention's ledger payload: recorded as a ``policy.decision`` entry


@dataclass(frozen=True, slots=True)
class Reservation:
    """Budget held for one envelope: an id the budget hook understands, and the amount held."""

    id: str
    amount: Usage

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "amount": self.amount.to_dict()}


@dataclass(frozen=True, slots=True)
class BudgetDecision:
    """A budget's answer: allowed (with an optional reservation) or not, and any warnings."""

    allowed: bool = True
    reason: str | None = None
    reservation: Reservation | None = None
    warnings: Sequence[str] = field(default_factory=tuple)
    audit: Any = None  # a refusal's ledger payload: recorded as a ``budget.exceeded`` entry


@runtime_checkable
class PolicyHook(Protocol):
    """What the orchestrator asks whether an envelope may go; governance's policy answers."""

    def check_envelope(self, envelope: Envelope, run: "Run") -> PolicyDecision: ...


@runtime_checkable
class BudgetHook(Protocol):
    """What reserves an accepted task's cost and settles or releases it (see the call points)."""

    def reserve(self, envelope: Envelope, run: "Run") -> BudgetDecision: ...

    def settle(
        self, reservation: Reservation, usage: Usage | None, run: "Run"
    ) -> Sequence[str]: ...

    def release(self, reservation: Reservation, run: "Run") -> None: ...

    def restore(self, reservation: Reservation, settled: Usage | None, run: "Run") -> None: ...


class AllowAllPolicy:
    """The default policy: every envelope allowed, nothing recorded beyond the acceptance."""

    def check_envelope(self, envelope: Envelope, run: "Run") -> PolicyDecision:
        return PolicyDecision()


class NoBudget:
    """The default budget: nothing reserved, nothing refused."""

    def reserve(self, envelope: Envelope, run: "Run") -> BudgetDecision:
        return BudgetDecision()

    def settle(self, reservation: Reservation, usage: Usage | None, run: "Run") -> Sequence[str]:
        return ()

    def release(self, reservation: Reservation, run: "Run") -> None:
        return None

    def restore(self, reservation: Reservation, settled: Usage | None, run: "Run") -> None:
        return None
