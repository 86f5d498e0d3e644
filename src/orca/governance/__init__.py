"""Governance: the policy engine and budgets. Pure decisions, no I/O but its files.

``PolicyEngine.decide(subject, action, resource, context)`` (the AuthZEN
shape) or ``check(phase, kind=…, tool=…, payload=…)`` answers every governed
action with a :class:`Decision`; ``BudgetBook`` reserves estimates atomically
and settles them to actual usage. The orchestrator calls both and records
every intervention in the ledger; :class:`Guard` does the same at the
provider edge. Precedence, policy file shape and budgets: docs/governance.md.
"""

from orca.governance._budget import (
    DIMENSIONS,
    THRESHOLDS,
    Budget,
    BudgetBook,
    BudgetEvent,
    Limits,
    Reservation,
    ScopeUsage,
    Spend,
    settled_entry,
    spend_of,
)
from orca.governance._cases import load_cases, run_cases
from orca.governance._config import (
    DEFAULT_POLICY_FILE,
    EngineSetup,
    GovernanceConfig,
    open_engine,
    read_config,
)
from orca.governance._engine import MODES, PolicyEngine
from orca.governance._errors import (
    BudgetError,
    BudgetExceeded,
    GovernanceError,
    PolicyDenied,
    PolicyFileError,
)
from orca.governance._guard import Admission, Guard
from orca.governance._load import parse_policy
from orca.governance._metrics import GovernanceMetrics, MetricSample
from orca.governance._pii import Redactor
from orca.governance._policy import RESTRICTIVE, Decision, Facts, Policy
from orca.governance._reload import PolicyReloader, ReloadOutcome, load_policy
from orca.governance._rules import PHASES, PII_KINDS, RULE_ACTIONS, PolicyDoc, Rule

__all__ = [
    "DEFAULT_POLICY_FILE",
    "DIMENSIONS",
    "MODES",
    "PHASES",
    "PII_KINDS",
    "RESTRICTIVE",
    "RULE_ACTIONS",
    "THRESHOLDS",
    "Admission",
    "Budget",
    "BudgetBook",
    "BudgetError",
    "BudgetEvent",
    "BudgetExceeded",
    "Decision",
    "EngineSetup",
    "Facts",
    "GovernanceConfig",
    "GovernanceError",
    "GovernanceMetrics",
    "Guard",
    "Limits",
    "MetricSample",
    "Policy",
    "PolicyDenied",
    "PolicyDoc",
    "PolicyEngine",
    "PolicyFileError",
    "PolicyReloader",
    "Redactor",
    "ReloadOutcome",
    "Reservation",
    "Rule",
    "ScopeUsage",
    "Spend",
    "load_cases",
    "load_policy",
    "open_engine",
    "parse_policy",
    "read_config",
    "run_cases",
    "settled_entry",
    "spend_of",
]
