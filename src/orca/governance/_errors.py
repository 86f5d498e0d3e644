"""Governance errors: a policy file that cannot be used, an action refused.

Each class carries a stable ``code`` (the server's JSON error code) and the
HTTP status the server maps it to, so every interface says the same thing.
"""

from typing import Any, ClassVar

from orca.errors import OrcaError


class GovernanceError(OrcaError, code="governance-error"):
    """Base of policy and budget errors; a subclass names its ``code`` in its class line."""

    code: ClassVar[str]
    http_status: ClassVar[int] = 400


class PolicyFileError(GovernanceError, ValueError, code="policy-invalid"):
    """A policy file (or test-case file) that does not parse or validate.

    The message names the file, the line and the field, so the fix is one edit.
    """

    def __init__(self, source: str, line: int | None, field: str | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{source}:{line}" if line is not None else source
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{problem}")


class BudgetError(GovernanceError, ValueError, code="budget-invalid"):
    """A budget that is not one (a negative limit, an unknown key)."""


class PolicyDenied(GovernanceError, code="policy-denied"):
    """The policy in force denied the action; ``decision`` says which rule and why.

    The orchestrator's own ``PolicyDenied`` (a rejected envelope) is a
    subclass, so ``except orca.governance.PolicyDenied`` catches every denial.
    """

    http_status = 403

    def __init__(self, message: str, *, decision: Any = None) -> None:
        self.decision = decision
        super().__init__(message)

    @classmethod
    def of(cls, decision: Any) -> "PolicyDenied":
        """The error for a deny :class:`Decision`: its phase, rule and reason codes."""
        rule = f" by rule {decision.rule!r}" if decision.rule else ""
        reasons = ", ".join(decision.reasons) or "denied"
        return cls(
            f"{decision.phase} denied{rule} ({reasons}); change the policy or the action",
            decision=decision,
        )


class BudgetExceeded(GovernanceError, code="budget-exceeded"):
    """An action whose estimate does not fit in what is left of a budget.

    ``scope`` is ``run`` or ``agent:<name>``; ``dimension`` the limit that
    would be crossed. Nothing was reserved: the action was not admitted. The
    orchestrator's ``BudgetExceeded`` (a rejected envelope) is a subclass.
    """

    http_status = 429

    def __init__(
        self,
        message: str,
        *,
        run: str | None = None,
        agent: str | None = None,
        scope: str | None = None,
        dimension: str | None = None,
        limit: float | None = None,
        would_be: float | None = None,
    ) -> None:
        self.run = run
        self.agent = agent
        self.scope = scope
        self.dimension = dimension
        self.limit = limit
        self.would_be = would_be
        super().__init__(message)

    @classmethod
    def of(
        cls, run: str, agent: str | None, scope: str, dimension: str, limit: float, would_be: float
    ) -> "BudgetExceeded":
        """The error for a reservation that does not fit, saying what to do."""
        return cls(
            f"budget exceeded for run {run} ({scope}): {dimension} would reach "
            f"{would_be:g} of a limit of {limit:g}; raise the budget or start a new run",
            run=run, agent=agent, scope=scope, dimension=dimension, limit=limit,
            would_be=would_be,
        )  # fmt: skip

    def audit(self) -> dict[str, Any]:
        """The ledger payload of ``budget.exceeded`` for a refused action."""
        return {
            "run": self.run,
            "agent": self.agent,
            "scope": self.scope,
            "dimension": self.dimension,
            "limit": self.limit,
            "would_be": self.would_be,
        }
