"""Decision test cases for a policy, like ``opa test``: input → expected decision and rule.

A cases file::

    cases:
      - name: shell is denied
        phase: pre_submit
        input: {kind: agent_task, sender: planner, tool: shell, payload: {cmd: ls}}
        expect: {decision: deny, rule: no-shell}
      - name: cards are redacted
        phase: pre_submit
        input: {payload: {note: "card 4111 1111 1111 1111"}}
        expect: {decision: modify, payload: {note: "card [CARD_1]"}}

``decision`` is the action (``allow | deny | modify | allow_but_flag``);
``rule``, ``reasons`` and ``payload`` are checked only when given.
"""

import logging
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orca.governance._engine import PolicyEngine
from orca.governance._errors import PolicyFileError
from orca.governance._load import _clean_loc, _field, line_of, plain, read_yaml
from orca.governance._policy import Facts, Policy
from orca.governance._rules import Phase

_UNSET: Any = object()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseInput(_Strict):
    kind: str | None = None
    sender: str | None = None
    recipient: str | None = None
    tool: str | None = None
    model: str | None = None
    payload: Any = None


class Expect(_Strict):
    decision: Literal["allow", "deny", "modify", "allow_but_flag"]
    rule: str | None = Field(default=_UNSET)
    reasons: list[str] | None = None
    payload: Any = Field(default=_UNSET)


class Case(_Strict):
    name: str
    phase: Phase
    input: CaseInput = Field(default_factory=CaseInput)
    expect: Expect


class Cases(_Strict):
    cases: list[Case]


class CaseResult(NamedTuple):
    """One case: passed or not, and what differed."""

    name: str
    passed: bool
    problems: tuple[str, ...]
    rule: str | None
    action: str


def load_cases(path: str | Path) -> Cases:
    """Read a cases file; :class:`PolicyFileError` naming the line when it is not one."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise PolicyFileError(str(p), None, None, f"cannot read: {exc.strerror}") from None
    tree = read_yaml(data, str(p))
    try:
        return Cases.model_validate(plain(tree) if tree is not None else {})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = _clean_loc(tuple(err["loc"]))
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        raise PolicyFileError(str(p), line_of(tree, loc), _field(loc) or None, message) from None


def run_cases(policy: Policy, cases: Cases) -> list[CaseResult]:
    """Decide every case with ``policy`` (closed mode) and compare with what it expects."""
    engine = PolicyEngine(policy, mode="closed")
    out: list[CaseResult] = []
    log = logging.getLogger("orca.governance")
    level = log.level
    log.setLevel(logging.ERROR)  # a case that expects policy-error is not a warning to print
    try:
        for case in cases.cases:
            out.append(_run(engine, case))
    finally:
        log.setLevel(level)
    return out


def _run(engine: PolicyEngine, case: Case) -> CaseResult:
    i = case.input
    d = engine.evaluate(
        Facts(case.phase, i.kind, i.sender, i.recipient, i.tool, i.model, i.payload)
    )
    want = case.expect
    problems: list[str] = []
    if d.action != want.decision:
        problems.append(f"decision: expected {want.decision}, got {d.action}")
    if want.rule is not _UNSET and d.rule != want.rule:
        problems.append(f"rule: expected {want.rule!r}, got {d.rule!r}")
    if want.reasons is not None and list(d.reasons) != want.reasons:
        problems.append(f"reasons: expected {want.reasons}, got {list(d.reasons)}")
    if want.payload is not _UNSET and d.payload != want.payload:
        problems.append(f"payload: expected {want.payload!r}, got {d.payload!r}")
    return CaseResult(case.name, not problems, tuple(problems), d.rule, d.action)
