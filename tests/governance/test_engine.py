"""The engine: precedence, fail-closed, modify, AuthZEN shape, hooks."""

from typing import Any

import pytest

from orca.governance import Decision, GovernanceError, Policy, PolicyEngine, parse_policy


def engine(text: str, **kw: Any) -> PolicyEngine:
    loaded = parse_policy(text.encode())
    return PolicyEngine(Policy(loaded.doc, sha256=loaded.sha256), **kw)


RULES = """
rules:
  - {name: flag-all, phase: pre_submit, action: allow_but_flag, priority: 100}
  - {name: deny-low, phase: pre_submit, action: deny, priority: 1, match: {tool: shell}}
  - name: redact-high
    phase: pre_submit
    priority: 5
    action: modify
    match: {tool: shell, payload: [{path: $.cmd, regex: "secret-[a-z]+"}]}
    modify: {redact: true, drop: [$.debug]}
  - {name: tie-modify, phase: post_submit, action: modify, modify: {set: {$.a: 1}}}
  - {name: tie-deny, phase: post_submit, action: deny}
  - {name: first, phase: pre_start_run, action: deny, reason: first-wins}
  - {name: second, phase: pre_start_run, action: deny, reason: second}
"""


def test_highest_priority_wins_and_flags_never_loosen() -> None:
    """modify@5 beats deny@1; the flag rule@100 is reported but decides nothing."""
    d = engine(RULES).check(
        "pre_submit", tool="shell", payload={"cmd": "echo secret-abc", "debug": 1}
    )
    assert (d.allowed, d.rule, d.action) == (True, "redact-high", "modify")
    assert d.payload == {"cmd": "echo [REDACTED:redact-high]"}
    assert d.flags == ("flag-all",)
    d = engine(RULES).check("pre_submit", tool="shell", payload={"cmd": "ls"})
    assert (d.allowed, d.rule) == (False, "deny-low")
    d = engine(RULES).check("pre_submit", tool="search", payload={})
    assert (d.allowed, d.rule, d.action) == (True, "flag-all", "allow_but_flag")


def test_equal_priority_most_restrictive_then_file_order() -> None:
    """deny beats modify at equal priority; two equal denies: the earlier one."""
    d = engine(RULES).check("post_submit", payload={})
    assert (d.allowed, d.rule) == (False, "tie-deny")
    d = engine(RULES).check("pre_start_run")
    assert (d.rule, d.reasons) == ("first", ("first-wins",))


def test_allowlists_come_before_rules_and_fold_case() -> None:
    """A tool or model off the list is denied whatever the rules say; case does not matter."""
    e = engine(
        "tool_allowlist: [Search]\nmodel_allowlist: [gpt-4o-mini]\nrules:\n"
        "  - {name: f, phase: pre_submit, action: allow_but_flag, priority: 99}\n"
    )
    assert e.check("pre_submit", tool="SEARCH").allowed
    d = e.check("pre_submit", tool="shell")
    assert (d.allowed, d.rule, d.reasons) == (False, "tool_allowlist", ("tool-not-allowed",))
    d = e.check("pre_provider_request", model="gpt-4o")
    assert (d.allowed, d.rule, d.reasons) == (False, "model_allowlist", ("model-not-allowed",))
    assert e.check("pre_provider_request", model="GPT-4o-mini").allowed


def test_no_policy_fails_closed_and_open_mode_allows() -> None:
    """Closed with nothing loaded denies with no-policy; open allows (and still redacts PII)."""
    d = PolicyEngine(None).check("pre_submit", payload={"t": "hi"})
    assert (d.allowed, d.action, d.reasons) == (False, "deny", ("no-policy",))
    d = PolicyEngine(None, mode="open").check("pre_submit", payload={"t": "mail x@example.com"})
    assert d.allowed and d.action == "modify" and d.payload == {"t": "mail [EMAIL_1]"}
    assert (
        PolicyEngine(None, mode="open").check("pre_submit", payload={"t": "hi"}).action == "allow"
    )


def test_an_evaluation_error_denies_with_policy_error() -> None:
    """A retyped field (a string where gt expects a number) fails closed, never passes."""
    e = engine("rules:\n  - {name: big, phase: pre_submit, action: deny, "
               "match: {payload: [{path: $.amount, gt: 100}]}}\n")  # fmt: skip
    assert not e.check("pre_submit", payload={"amount": 500}).allowed
    assert e.check("pre_submit", payload={"amount": 5}).allowed
    d = e.check("pre_submit", payload={"amount": "500"})
    assert (d.allowed, d.reasons) == (False, ("policy-error",))
    assert e.errors == 1
    assert e.check("pre_submit", payload={}).allowed  # an absent field does not match


def test_an_engine_that_raises_internally_denies() -> None:
    """Whatever breaks inside evaluation (here the compiled policy itself) becomes a deny."""
    e = engine("rules: []\n")

    class Broken:
        doc = e.policy.doc if e.policy else None

        def resolve(self, *_: object) -> Decision:
            raise RuntimeError("boom")

    e.replace(Broken())  # type: ignore[arg-type]
    d = e.check("pre_submit", payload={"x": 1})
    assert (d.allowed, d.reasons) == (False, ("policy-error",))
    e.mode = "open"
    d = e.check("pre_submit", payload={"x": 1})
    assert (d.allowed, d.action, d.reasons) == (True, "allow_but_flag", ("policy-error",))


def test_unknown_phase_is_a_policy_error() -> None:
    """A phase the engine does not know is an error, so it fails closed."""
    assert engine("rules: []\n").check("pre_whatever").reasons == ("policy-error",)


def test_authzen_shape_and_audit_never_carry_the_payload() -> None:
    """decide() takes subject/action/resource/context; the audit has codes, not payload text."""
    e = engine(RULES)
    d = e.decide(
        {"type": "agent", "id": "planner"},
        {"name": "pre_submit"},
        {"type": "envelope", "id": "e1",
         "properties": {"tool": "shell", "payload": {"cmd": "secret-xyz, mail a@b.example"}}},
        {"run": "r1"},
    )  # fmt: skip
    assert d.authzen()["decision"] is True
    audit = repr(d.audit())
    assert "secret-xyz" not in audit and "a@b.example" not in audit
    assert d.audit()["redactions"] == {"email": 1}
    assert d.span_attrs() == {"orca.policy.decision": "modify", "orca.policy.rule": "redact-high"}


def test_decision_hook_sees_every_decision_and_cannot_break_it() -> None:
    """on_decision is called each time; if it raises, the decision still stands."""
    seen: list[Decision] = []
    e = engine(RULES, on_decision=seen.append)
    e.check("pre_submit", tool="shell", payload={"cmd": "ls"})
    assert [d.rule for d in seen] == ["deny-low"]

    def bad(_: Decision) -> None:
        raise RuntimeError("metrics down")

    e.on_decision = bad
    assert not e.check("pre_submit", tool="shell", payload={"cmd": "ls"}).allowed


def test_set_and_drop_reach_nested_paths() -> None:
    """modify set/drop work on nested objects and list items, leaving the input untouched."""
    e = engine(
        "rules:\n  - name: m\n    phase: pre_provider_request\n    action: modify\n"
        "    modify: {set: {$.a.b: 2, 'messages[0].role': user}, drop: [$.c]}\n"
    )
    body = {"messages": [{"role": "system"}], "c": 1}
    d = e.check("pre_provider_request", payload=body)
    assert d.payload == {"messages": [{"role": "user"}], "a": {"b": 2}}
    assert body == {"messages": [{"role": "system"}], "c": 1}


def test_bad_mode_is_rejected() -> None:
    """Only open and closed exist."""
    with pytest.raises(GovernanceError, match="open"):
        PolicyEngine(None, mode="ajar")  # type: ignore[arg-type]
