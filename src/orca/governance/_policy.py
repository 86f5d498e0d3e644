"""A compiled policy and its rule resolution: allowlists, then rules.

Precedence inside a policy (the engine runs PII redaction and the
fail-closed check before this):

1. allowlists — a tool or model not on a list that exists is denied;
2. rules of the phase — deny and modify rules decide: the highest priority
   wins; at equal priority deny beats modify; then file order.
   ``allow_but_flag`` rules never loosen a decision: they decide only when no
   deny or modify rule matched (highest priority, then file order). So
   adding a flag rule can never turn a deny into an allow, and a flag never
   skips a redaction.

Evaluation is strict about types: ``gt``/``lt`` on a value that is not a
number, ``regex`` on one that is not a string, or ``contains`` on one that is
neither string nor list raises :class:`EvaluationError` — the engine denies
with ``policy-error`` rather than guessing (a renamed or retyped field must
not quietly turn "blocked" into a pass). A path that is absent (or null)
simply does not match.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from orca.governance._paths import MISSING, Segment, drop_path, get_path, parse_path, set_path
from orca.governance._pii import Redactor
from orca.governance._rules import PHASES, PayloadPredicate, PolicyDoc, Predicate, Rule

# How restrictive each rule action is: among matching rules of one priority the higher wins.
RESTRICTIVE: Final = {"deny": 2, "modify": 1, "allow_but_flag": 0}


class EvaluationError(Exception):
    """A predicate met a value it cannot judge; the engine turns this into a deny."""


class Facts(NamedTuple):
    """What a decision looks at: the envelope (or provider request) fields, and its payload."""

    phase: str
    kind: str | None = None
    sender: str | None = None
    recipient: str | None = None
    tool: str | None = None
    model: str | None = None
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one governed action (an AuthZEN evaluation result, plus what changed).

    ``action`` is ``allow`` (nothing to say), ``deny``, ``modify`` (``payload``
    is the changed payload) or ``allow_but_flag``. ``reasons`` are stable
    codes. ``payload`` is always safe to persist: PII is already redacted.
    """

    allowed: bool
    rule: str | None
    action: str
    reasons: tuple[str, ...]
    phase: str
    payload: Any = None
    redactions: dict[str, int] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether ``payload`` differs from the input: a modify rule, or PII redacted under any
        allowing decision (a flag rule winning must not let a card number through)."""
        return self.action == "modify" or (self.allowed and bool(self.redactions))

    @property
    def intervened(self) -> bool:
        """Whether this decision is an intervention (and so a ``policy.decision`` entry)."""
        return self.action != "allow"

    def audit(self) -> dict[str, Any]:
        """The ledger payload: rule, action and reason codes — never the payload itself."""
        out: dict[str, Any] = {
            "phase": self.phase,
            "allowed": self.allowed,
            "rule": self.rule,
            "action": self.action,
            "reasons": list(self.reasons),
        }
        if self.redactions:
            out["redactions"] = dict(sorted(self.redactions.items()))
        if self.flags:
            out["flags"] = list(self.flags)
        return out

    def authzen(self) -> dict[str, Any]:
        """The OpenID AuthZEN evaluation response shape."""
        return {"decision": self.allowed, "context": self.audit()}

    def span_attrs(self) -> dict[str, str]:
        """Attributes of the ``policy.check`` span."""
        return {"orca.policy.decision": self.action, "orca.policy.rule": self.rule or ""}


def _same(a: Any, b: Any) -> bool:
    """Equality that does not let ``True == 1`` or ``1 == 1.0`` blur a type change."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        return False
    return bool(a == b)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


Judge = Callable[[Any], bool]
Check = Callable[[Facts], bool]
_PAYLOAD: Final = Facts._fields.index("payload")


def _judge(op: str, operand: Any, pattern: re.Pattern[str] | None) -> Judge:
    """The operator as a function of a present value, specialised once at load time."""
    if op == "equals":
        if isinstance(operand, str):
            return lambda v: type(v) is str and v == operand
        return lambda v: _same(v, operand)
    if op == "in":
        if all(isinstance(item, str) for item in operand):
            strings = frozenset(operand)
            return lambda v: type(v) is str and v in strings
        return lambda v: any(_same(v, item) for item in operand)
    if op == "contains":

        def contains(v: Any) -> bool:
            if isinstance(v, str):
                if not isinstance(operand, str):
                    raise EvaluationError(f"contains {operand!r} on a string")
                return operand in v
            if isinstance(v, list):
                return any(_same(item, operand) for item in v)
            raise EvaluationError(f"contains on a {type(v).__name__}")

        return contains
    if op == "regex" and pattern is not None:
        search = pattern.search

        def regex(v: Any) -> bool:
            if not isinstance(v, str):
                raise EvaluationError(f"regex on a {type(v).__name__}")
            return search(v) is not None

        return regex

    def compare(v: Any) -> bool:
        if not _number(v):
            raise EvaluationError(f"{op} on a {type(v).__name__}")
        return bool(v > operand) if op == "gt" else bool(v < operand)

    return compare


class _Test(NamedTuple):
    """A predicate compiled: where to look, which operator, against what, and ``check``.

    An absent path, or a null value, does not match (for envelope fields and
    payload paths alike).
    """

    field: str | None
    path: tuple[Segment, ...]
    op: str
    operand: Any
    pattern: re.Pattern[str] | None
    check: Check

    def holds(self, facts: Facts) -> bool:
        return self.check(facts)


def _getter(field_name: str | None, path: tuple[Segment, ...]) -> Callable[[Facts], Any]:
    if field_name is not None:
        index = Facts._fields.index(field_name)
        return lambda f: f[index]
    if len(path) == 1 and isinstance(path[0], str):
        key = path[0]

        def one(f: Facts) -> Any:
            doc = f[_PAYLOAD]
            return doc.get(key, MISSING) if isinstance(doc, dict) else MISSING

        return one
    return lambda f: get_path(f[_PAYLOAD], path)


def _test(pred: Predicate, field_name: str | None) -> _Test:
    path = pred.segments if isinstance(pred, PayloadPredicate) else ()
    op = pred.op
    pattern = re.compile(pred.operand) if op == "regex" else None
    get = _getter(field_name, path)
    judge = _judge(op, pred.operand, pattern)

    def check(f: Facts) -> bool:
        value = get(f)
        return value is not None and value is not MISSING and judge(value)

    return _Test(field_name, path, op, pred.operand, pattern, check)


class CompiledRule(NamedTuple):
    rule: Rule
    position: int  # in the file: the last tie-break
    tests: tuple[_Test, ...]

    def matches(self, facts: Facts) -> bool:
        for t in self.tests:  # noqa: SIM110 - a plain loop: no generator frame per rule
            if not t.check(facts):
                return False
        return True

    def rank(self) -> tuple[int, int, int]:
        return (self.rule.priority, RESTRICTIVE[self.rule.action], -self.position)

    def apply(self, payload: Any) -> Any:
        """The payload as this (modify) rule leaves it."""
        mod = self.rule.modify
        if mod is None:
            return payload
        out = payload
        if mod.redact:
            for t in self.tests:
                if t.pattern is None or t.field is not None:
                    continue
                value = get_path(out, t.path)
                if isinstance(value, str):
                    out = set_path(
                        out, t.path, t.pattern.sub(f"[REDACTED:{self.rule.name}]", value)
                    )
        for key, value in mod.set.items():
            out = set_path(out, parse_path(key), value)
        for key in mod.drop:
            out = drop_path(out, parse_path(key))
        return out


def _compile(rule: Rule, index: int) -> CompiledRule:
    tests: list[_Test] = []
    m = rule.match
    for name in ("kind", "sender", "recipient", "tool", "model"):
        pred = getattr(m, name)
        if pred is not None:
            tests.append(_test(pred, name))
    tests.extend(_test(p, None) for p in m.payload)
    return CompiledRule(rule, index, tuple(tests))


class Policy:
    """An immutable, compiled policy; safe to share between threads and swap atomically."""

    def __init__(self, doc: PolicyDoc, *, source: str = "<policy>", sha256: str = "") -> None:
        self.doc = doc
        self.source = source
        self.sha256 = sha256
        self.tools = frozenset(doc.tool_allowlist) if doc.tool_allowlist is not None else None
        self.models = frozenset(doc.model_allowlist) if doc.model_allowlist is not None else None
        pii = doc.pii
        self.pii_phases = frozenset(pii.phases)
        self.redactor: Redactor | None = None
        if pii.enabled and pii.kinds:
            if pii.engine == "presidio":
                from orca.governance._presidio import PresidioRedactor

                self.redactor = PresidioRedactor(pii.kinds)
            else:
                self.redactor = Redactor(pii.kinds)
        compiled = [_compile(rule, i) for i, rule in enumerate(doc.rules)]
        self.by_phase: dict[str, tuple[CompiledRule, ...]] = {
            phase: tuple(c for c in compiled if c.rule.phase == phase) for phase in PHASES
        }

    def resolve(self, facts: Facts, redactions: dict[str, int]) -> Decision:
        """Allowlists, then rules, for facts whose payload is already PII-redacted."""
        phase = facts.phase

        def decide(
            allowed: bool,
            rule: str | None,
            action: str,
            reason: str | None,
            payload: Any = facts.payload,
            flags: tuple[str, ...] = (),
        ) -> Decision:
            reasons = (reason,) if reason else ()
            return Decision(allowed, rule, action, reasons, phase, payload, redactions, flags)

        tool, model = facts.tool, facts.model
        if self.tools is not None and tool is not None and tool.casefold() not in self.tools:
            return decide(False, "tool_allowlist", "deny", "tool-not-allowed")
        if self.models is not None and model is not None and model.casefold() not in self.models:
            return decide(False, "model_allowlist", "deny", "model-not-allowed")
        matched = [c for c in self.by_phase.get(phase, ()) if c.matches(facts)]
        flags = tuple(c.rule.name for c in matched if c.rule.action == "allow_but_flag")
        decisive = [c for c in matched if c.rule.action != "allow_but_flag"]
        pool = decisive or matched
        if not pool:
            if redactions:
                return decide(True, "pii", "modify", "pii-redacted")
            return decide(True, None, "allow", None)
        win = max(pool, key=CompiledRule.rank)
        rule = win.rule
        reason = rule.reason or f"rule-{rule.action.replace('_', '-')}"
        payload = win.apply(facts.payload) if rule.action == "modify" else facts.payload
        return decide(rule.action != "deny", rule.name, rule.action, reason, payload, flags)
