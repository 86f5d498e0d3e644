"""The engine against a 30-line reference evaluator, over random rule sets and envelopes."""

import random
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orca.governance import Facts, Policy, PolicyDoc, PolicyEngine

ABSENT = object()
ORDER = {"deny": 2, "modify": 1, "allow_but_flag": 0}


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def reference(doc: dict[str, Any], facts: dict[str, Any]) -> tuple[bool, str | None, str]:
    """docs/governance.md's precedence, written as plainly as possible; raises on type errors."""
    tools = doc.get("tool_allowlist")
    tool = facts["tool"]
    if (
        tools is not None
        and tool is not None
        and tool.casefold() not in [t.casefold() for t in tools]
    ):
        return (False, "tool_allowlist", "deny")

    def holds(value: Any, op: str, arg: Any) -> bool:
        if value is ABSENT or value is None:
            return False
        if op == "equals":
            return _eq(value, arg)
        if op == "in":
            return any(_eq(value, a) for a in arg)
        if op == "contains" and isinstance(value, str):
            if not isinstance(arg, str):
                raise TypeError
            return arg in value
        if op == "contains":
            if not isinstance(value, list):
                raise TypeError
            return any(_eq(v, arg) for v in value)
        if op == "regex":
            if not isinstance(value, str):
                raise TypeError
            return re.search(arg, value) is not None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        return value > arg if op == "gt" else value < arg

    hits = []
    for i, r in enumerate(doc["rules"]):
        if r["phase"] != facts["phase"]:
            continue
        tests = [
            (facts[f], *next(iter(p.items()))) for f, p in r["match"].items() if f != "payload"
        ]
        for p in r["match"].get("payload", []):
            op = next(k for k in p if k != "path")
            tests.append((facts["payload"].get(p["path"][2:], ABSENT), op, p[op]))
        if all(holds(*t) for t in tests):
            hits.append((i, r))
    pool = [h for h in hits if h[1]["action"] != "allow_but_flag"] or hits
    if not pool:
        return (True, None, "allow")
    _, r = min(pool, key=lambda h: (-h[1].get("priority", 0), -ORDER[h[1]["action"]], h[0]))
    return (r["action"] != "deny", r["name"], r["action"])


def _fix(p: dict[str, Any]) -> dict[str, Any]:
    """Give each operator an operand of the type its schema demands."""
    op = next(k for k in p if k != "path")
    arg = p[op]
    if op == "in":
        p[op] = [arg]
    elif op == "regex":
        p[op] = "^a" if isinstance(arg, int) else arg
    elif op in ("gt", "lt") and not isinstance(arg, int):
        p[op] = 1
    return p


VALUES = st.sampled_from(["ab", "cd", "abc", 3, -2, 7, 2.5, True, [1, 2], ["ab"]])
FIELD_PRED = st.one_of(
    st.builds(lambda v: {"equals": v}, st.sampled_from(["agent_task", "a", "b", "search"])),
    st.builds(lambda v: {"in": v}, st.lists(st.sampled_from(["a", "b", "shell"]), max_size=2)),
)
PAYLOAD_PRED = st.builds(
    lambda path, op, arg: {"path": path, op: arg},
    st.sampled_from(["$.x", "$.n", "$.y", "$.gone"]),
    st.sampled_from(["equals", "in", "contains", "regex", "gt", "lt"]),
    st.sampled_from(["ab", "c", 3, 0]),
).map(_fix)


@st.composite
def rules(draw: st.DrawFn, n: int | None = None, action: str | None = None) -> dict[str, Any]:
    match: dict[str, Any] = {}
    for f in draw(st.lists(st.sampled_from(["kind", "sender", "tool"]), max_size=2, unique=True)):
        match[f] = draw(FIELD_PRED)
    payload = draw(st.lists(PAYLOAD_PRED, max_size=2))
    if payload:
        match["payload"] = payload
    act = action or draw(st.sampled_from(["deny", "modify", "allow_but_flag"]))
    rule = {
        "name": f"r{draw(st.integers(0, 10**6)) if n is None else n}",
        "priority": draw(st.integers(0, 3)),
        "phase": draw(st.sampled_from(["pre_submit", "post_submit"])),
        "match": match,
        "action": act,
    }
    if act == "modify":
        rule["modify"] = {"set": {"$.z": 1}}
    return rule


@st.composite
def docs(draw: st.DrawFn) -> dict[str, Any]:
    rs = [draw(rules(n=i)) for i in range(draw(st.integers(0, 6)))]
    doc: dict[str, Any] = {"pii": {"enabled": False}, "rules": rs}
    if draw(st.booleans()):
        doc["tool_allowlist"] = draw(st.lists(st.sampled_from(["Search", "calc"]), unique=True))
    return doc


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    payload = {k: draw(VALUES) for k in draw(st.lists(st.sampled_from("xny"), unique=True))}
    return {
        "phase": draw(st.sampled_from(["pre_submit", "post_submit"])),
        "kind": draw(st.sampled_from(["agent_task", "agent_result"])),
        "sender": draw(st.sampled_from(["a", "b", "c"])),
        "recipient": "r",
        "tool": draw(st.sampled_from(["search", "SEARCH", "shell", None])),
        "model": None,
        "payload": payload,
    }


def engine_says(doc: dict[str, Any], env: dict[str, Any]) -> tuple[Any, ...]:
    policy = Policy(PolicyDoc.model_validate(doc))
    d = PolicyEngine(policy).evaluate(Facts(**env))
    return (d.allowed, d.rule, d.action)


def reference_says(doc: dict[str, Any], env: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return reference(doc, env)
    except TypeError:
        return (False, None, "deny")  # fail closed: policy-error


@settings(max_examples=200, deadline=None)
@given(docs(), envelopes())
def test_engine_agrees_with_the_reference(doc: dict[str, Any], env: dict[str, Any]) -> None:
    """For any rule set and envelope, the engine decides what the reference evaluator decides."""
    assert engine_says(doc, env) == reference_says(doc, env)


@settings(max_examples=100, deadline=None)
@given(docs(), envelopes(), st.randoms(use_true_random=False))
def test_shuffling_rules_of_distinct_priority_changes_nothing(
    doc: dict[str, Any], env: dict[str, Any], rnd: random.Random
) -> None:
    """With every priority distinct, file order never matters."""
    for i, r in enumerate(doc["rules"]):
        r["priority"] = i * 7 % 11
    before = engine_says(doc, env)
    rnd.shuffle(doc["rules"])
    assert engine_says(doc, env) == before


@settings(max_examples=120, deadline=None)
@given(docs(), envelopes(), rules(n=99, action="allow_but_flag"), st.integers(0, 6))
def test_adding_an_allow_rule_never_lifts_a_deny(
    doc: dict[str, Any], env: dict[str, Any], extra: dict[str, Any], at: int
) -> None:
    """A deny stays a deny whatever allow_but_flag rule is added, at any priority or place."""
    before = engine_says(doc, env)
    doc["rules"].insert(min(at, len(doc["rules"])), extra)
    after = engine_says(doc, env)
    if not before[0]:
        assert not after[0]
