"""The typed shape of a policy file, validated by pydantic.

Every model forbids unknown keys: a misspelt ``priorty`` or ``regx`` is an
error naming the line, never a rule that silently matches everything (the
"schema drift turns blocked into a pass" failure).
"""

import re
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from orca.governance._paths import Segment, parse_path

Phase = Literal["pre_start_run", "pre_submit", "post_submit", "pre_provider_request"]
RuleAction = Literal["deny", "modify", "allow_but_flag"]
PiiKind = Literal["api_key", "iban", "card", "ssn", "email", "phone"]
# The points where a governed action meets the policy (a rule names the ones it applies at).
PHASES: Final[tuple[Phase, ...]] = (
    "pre_start_run",
    "pre_submit",
    "post_submit",
    "pre_provider_request",
)
RULE_ACTIONS: Final = ("deny", "modify", "allow_but_flag")  # what a matching rule may do
# The kinds of personal data the built-in redaction finds (all on unless a policy narrows them).
PII_KINDS: Final[tuple[PiiKind, ...]] = ("api_key", "iban", "card", "ssn", "email", "phone")
OPS: Final = ("equals", "in", "contains", "regex", "gt", "lt")
FIELDS: Final = ("kind", "sender", "recipient", "tool", "model")

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
Number = StrictInt | StrictFloat


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Predicate(_Strict):
    """One test on one value: exactly one of the operators."""

    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    contains: Any = None
    regex: str | None = None
    gt: Number | None = None
    lt: Number | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> "Predicate":
        given = [name for name in self.model_fields_set if name != "path"]
        if len(given) != 1:
            raise ValueError(f"give exactly one operator of {', '.join(OPS)} (got {len(given)})")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        return self

    @property
    def op(self) -> str:
        name = next(n for n in self.model_fields_set if n != "path")
        return "in" if name == "in_" else name

    @property
    def operand(self) -> Any:
        name = next(n for n in self.model_fields_set if n != "path")
        return getattr(self, name)


class PayloadPredicate(Predicate):
    """A predicate on the value at one payload path."""

    path: str

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        parse_path(value)
        return value

    @property
    def segments(self) -> tuple[Segment, ...]:
        return parse_path(self.path)


def _shorthand(value: Any) -> Any:
    """``kind: agent_task`` means ``kind: {equals: agent_task}``."""
    if isinstance(value, str | int | float | bool):
        return {"equals": value}
    return value


class Match(_Strict):
    """Structured predicates on envelope fields; all must hold (an empty match holds always)."""

    kind: Predicate | None = None
    sender: Predicate | None = None
    recipient: Predicate | None = None
    tool: Predicate | None = None
    model: Predicate | None = None
    payload: list[PayloadPredicate] = Field(default_factory=list)

    @field_validator("kind", "sender", "recipient", "tool", "model", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return _shorthand(value)


class Modify(_Strict):
    """What a ``modify`` rule changes: redact its regex matches, set or drop payload fields."""

    redact: bool = False
    set: dict[str, Any] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)

    @field_validator("set")
    @classmethod
    def _set_paths(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            parse_path(key)
        return value

    @field_validator("drop")
    @classmethod
    def _drop_paths(cls, value: list[str]) -> list[str]:
        for key in value:
            parse_path(key)
        return value

    @model_validator(mode="after")
    def _something(self) -> "Modify":
        if not (self.redact or self.set or self.drop):
            raise ValueError("a modify block needs redact: true, set or drop")
        return self


class Rule(_Strict):
    """One rule: where it applies, what it matches, what it does."""

    name: str
    priority: StrictInt = 0
    phase: Phase
    match: Match = Field(default_factory=Match)
    action: RuleAction
    modify: Modify | None = None
    reason: str | None = None

    @field_validator("name", "reason")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.match(value):
            raise ValueError(
                f"{value!r} must be 1-128 letters, digits or '_.:-' (it is a stable code)"
            )
        return value

    @model_validator(mode="after")
    def _modify_matches_action(self) -> "Rule":
        if self.action == "modify" and self.modify is None:
            raise ValueError("action modify needs a modify block (redact, set or drop)")
        if self.action != "modify" and self.modify is not None:
            raise ValueError(f"a modify block needs action: modify, not {self.action}")
        if (
            self.modify is not None
            and self.modify.redact
            and not any(p.regex is not None for p in self.match.payload)
        ):
            raise ValueError("modify.redact redacts what a payload regex matched; add one")
        return self


class PiiSettings(_Strict):
    """The built-in PII redaction, applied before any rule sees the payload."""

    enabled: bool = True
    kinds: list[PiiKind] = Field(default_factory=lambda: list(PII_KINDS))
    phases: list[Phase] = Field(default_factory=lambda: list(PHASES))
    engine: Literal["builtin", "presidio"] = "builtin"


def _allowlist(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    seen: set[str] = set()
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"entry {i} is empty; remove it")
        folded = item.strip().casefold()
        if folded in seen:
            raise ValueError(f"entry {i} ({item!r}) repeats an earlier entry; remove it")
        seen.add(folded)
        out.append(folded)
    return out


class PolicyDoc(_Strict):
    """A whole policy file."""

    version: Literal[1] = 1
    tool_allowlist: list[str] | None = None
    model_allowlist: list[str] | None = None
    pii: PiiSettings = Field(default_factory=PiiSettings)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("tool_allowlist", "model_allowlist")
    @classmethod
    def _lists(cls, value: list[str] | None) -> list[str] | None:
        return _allowlist(value)

    @model_validator(mode="after")
    def _unique_names(self) -> "PolicyDoc":
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice; names must be unique")
            seen.add(rule.name)
        return self
