"""The policy engine: one ``decide`` for every governed action, failing closed.

Precedence, in order (see docs/governance.md):

1. built-in PII redaction of the payload (so no rule, log or ledger entry
   ever sees the raw value);
2. the fail-closed check — no valid policy loaded means ``deny`` with reason
   ``no-policy``; an error while deciding means ``deny`` with
   ``policy-error``. A home explicitly set to ``policy: open`` allows instead,
   and still reports the reason (``allow_but_flag``), so it is recorded;
3. the policy's allowlists, then its rules (:mod:`orca.governance._policy`).

The policy in force is one attribute; replacing it is a single reference
swap, so a decision sees either the old policy or the new one, never a mix.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from orca.governance._errors import GovernanceError
from orca.governance._pii import Redactor
from orca.governance._policy import Decision, Facts, Policy
from orca.governance._rules import PHASES, PII_KINDS

_log = logging.getLogger("orca.governance")
Mode = Literal["open", "closed"]
# closed (the default): no valid policy means deny; open: allow, flagged with the reason.
MODES: Final = ("open", "closed")
_DEFAULT_REDACTOR: Final = Redactor(PII_KINDS)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class PolicyEngine:
    """Decides governed actions against the policy in force (or fails closed without one).

    ``on_decision`` (e.g. a metrics counter) is called with every decision;
    an error inside it is logged and swallowed, never turned into an allow.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        mode: Mode = "closed",
        on_decision: Callable[[Decision], None] | None = None,
    ) -> None:
        if mode not in MODES:
            raise GovernanceError(f"policy mode must be 'open' or 'closed', not {mode!r}")
        self.mode: Mode = mode
        self.on_decision = on_decision
        self.errors = 0
        self._policy = policy

    @property
    def policy(self) -> Policy | None:
        """The policy in force (None: nothing valid loaded)."""
        return self._policy

    def replace(self, policy: Policy | None) -> None:
        """Put ``policy`` in force, atomically."""
        self._policy = policy

    @staticmethod
    def _redactor(policy: Policy | None, phase: str) -> Redactor | None:
        if policy is None:
            return _DEFAULT_REDACTOR
        return policy.redactor if phase in policy.pii_phases else None

    def check(
        self,
        phase: str,
        *,
        kind: str | None = None,
        sender: str | None = None,
        recipient: str | None = None,
        tool: str | None = None,
        model: str | None = None,
        payload: Any = None,
    ) -> Decision:
        """Decide one action from its envelope fields; never raises."""
        return self.evaluate(Facts(phase, kind, sender, recipient, tool, model, payload))

    def evaluate(self, facts: Facts) -> Decision:
        """Decide for ``facts``; every failure becomes a deny (or a flagged allow when open)."""
        policy = self._policy
        payload = facts.payload
        redactions: dict[str, int] = {}
        try:
            if facts.phase not in PHASES:
                raise ValueError(f"unknown phase {facts.phase!r}")
            redactor = self._redactor(policy, facts.phase)
            if redactor is not None and payload is not None:
                payload, redactions = redactor.redact(payload)
                facts = facts._replace(payload=payload)
            if policy is None:
                decision = self._fallback(facts.phase, "no-policy", payload, redactions)
            else:
                decision = policy.resolve(facts, redactions)
        except Exception as exc:
            self.errors += 1
            _log.warning("orca: policy evaluation failed (%s): %r", facts.phase, exc)
            safe = payload if redactions or payload is None else None
            decision = self._fallback(facts.phase, "policy-error", safe, redactions)
        if self.on_decision is not None:
            try:
                self.on_decision(decision)
            except Exception as exc:
                _log.warning("orca: policy decision hook failed: %r", exc)
        return decision

    def _fallback(
        self, phase: str, reason: str, payload: Any, redactions: dict[str, int]
    ) -> Decision:
        if self.mode == "open":
            if reason == "no-policy":
                action = "modify" if redactions else "allow"
                reasons = ("pii-redacted",) if redactions else ()
                rule = "pii" if redactions else None
                return Decision(True, rule, action, reasons, phase, payload, redactions)
            return Decision(True, None, "allow_but_flag", (reason,), phase, payload, redactions)
        return Decision(False, None, "deny", (reason,), phase, payload, redactions)

    def decide(
        self,
        subject: Mapping[str, Any],
        action: Mapping[str, Any],
        resource: Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """An OpenID AuthZEN-shaped evaluation.

        ``subject.id`` is the sender, ``action.name`` the phase, and
        ``resource.properties`` carries ``kind``, ``recipient``, ``tool``,
        ``model`` and ``payload``. ``context`` is accepted for the shape and
        for future rules; nothing in it changes a decision today.
        """
        props = resource.get("properties") if isinstance(resource, Mapping) else None
        props = props if isinstance(props, Mapping) else {}
        phase = action.get("name") if isinstance(action, Mapping) else None
        return self.evaluate(
            Facts(
                phase=phase if isinstance(phase, str) else "",
                kind=_str(props.get("kind")),
                sender=_str(subject.get("id")) if isinstance(subject, Mapping) else None,
                recipient=_str(props.get("recipient")),
                tool=_str(props.get("tool")),
                model=_str(props.get("model")),
                payload=props.get("payload"),
            )
        )
