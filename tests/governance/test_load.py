"""Policy files: parsed with line numbers, validated into typed rules, errors that name the fix."""

import hashlib
from pathlib import Path

import pytest

from orca.governance import PolicyFileError, load_policy, parse_policy

GOOD = b"""\
version: 1
tool_allowlist: [Search, calc]
model_allowlist: [gpt-4o-mini]
rules:
  - name: no-shell
    priority: 10
    phase: pre_submit
    match:
      kind: agent_task
      payload:
        - path: $.args.cmd
          regex: "rm -rf"
    action: deny
    reason: dangerous-shell
  - name: cap-tokens
    phase: pre_provider_request
    match: {payload: [{path: max_tokens, gt: 1000}]}
    action: modify
    modify: {set: {max_tokens: 1000}}
"""


def _error(text: str) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text.encode(), "p.yaml")
    return info.value


def test_a_good_file_becomes_typed_rules_with_its_sha256(tmp_path: Path) -> None:
    """Rules come back typed, allowlists case-folded, and the hash is of the exact bytes."""
    path = tmp_path / "policy.yaml"
    path.write_bytes(GOOD)
    policy = load_policy(path)
    assert [r.name for r in policy.doc.rules] == ["no-shell", "cap-tokens"]
    assert policy.doc.rules[0].priority == 10 and policy.doc.rules[1].priority == 0
    assert policy.doc.tool_allowlist == ["search", "calc"]
    assert policy.sha256 == hashlib.sha256(GOOD).hexdigest()
    assert policy.source == str(path)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("rules:\n  - name: a\n    phase: pre_submit\n    priorty: 3\n    action: deny\n",
         4, "rules[0].priorty", "unknown key"),
        ("rules:\n  - name: a\n    phase: pre_sumbit\n    action: deny\n",
         3, "rules[0].phase", "pre_submit"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: block\n",
         4, "rules[0].action", "deny"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n"
         "    match: {payload: [{path: $.n, gt: '5'}]}\n", 5, "rules[0].match.payload[0].gt", ""),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n"
         "    match: {tool: {in: [a], equals: b}}\n", 5, "rules[0].match.tool", "exactly one"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n"
         "    match: {payload: [{path: $, equals: 1}]}\n", 5, "rules[0].match.payload[0].path",
         "whole payload"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: modify\n", 2, "rules[0]",
         "modify block"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n"
         "  - name: a\n    phase: pre_submit\n    action: deny\n", 5, "rules[1].name", "unique"),
        ("tool_allowlist: [shell, Shell]\n", 1, "tool_allowlist", "repeats"),
        ("model_allowlist: [gpt, '']\n", 1, "model_allowlist", "empty"),
        ("rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n"
         "    match: {payload: [{path: $.x, regex: '(' }]}\n", 5, "rules[0].match.payload[0]",
         "does not compile"),
        ("rules:\n  - name: 'has space'\n    phase: pre_submit\n    action: deny\n",
         2, "rules[0].name", "stable code"),
        ("rules:\n  - name: a\n    priority: true\n    phase: pre_submit\n    action: deny\n",
         3, "rules[0].priority", "integer"),
    ],
)  # fmt: skip
def test_a_bad_file_names_file_line_and_field(text: str, line: int, field: str, words: str) -> None:
    """Every validation failure says p.yaml:<line>: <field>: <what to fix>."""
    err = _error(text)
    assert err.source == "p.yaml"
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"p.yaml:{line}: {field}: ")


def test_broken_yaml_names_the_line() -> None:
    """A YAML syntax error points at its line, without a traceback's worth of text."""
    err = _error("rules:\n  - name: a\n   phase: x\n")
    assert err.line == 3 and "YAML" in str(err)


def test_duplicate_keys_are_an_error_not_a_silent_override() -> None:
    """Two `action:` keys in one rule would hide one of them: rejected."""
    err = _error(
        "rules:\n  - name: a\n    phase: pre_submit\n    action: deny\n    action: allow_but_flag\n"
    )
    assert err.line == 5


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    """A list at the top, or no file at all, is a clear error."""
    assert "mapping" in str(_error("- a\n- b\n"))
    with pytest.raises(PolicyFileError, match="no such file"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(PolicyFileError, match="UTF-8"):
        load_policy(tmp_path / "bin.yaml")


def test_presidio_without_the_extra_is_rejected_at_load(tmp_path: Path) -> None:
    """Asking for Presidio without it installed fails at load, naming the extra to install."""
    pytest.importorskip("ruamel.yaml")
    try:
        import presidio_analyzer  # noqa: F401

        pytest.skip("presidio is installed here")
    except ImportError:
        pass
    path = tmp_path / "p.yaml"
    path.write_text("pii: {engine: presidio}\n")
    with pytest.raises(PolicyFileError, match=r"orca\[presidio\]"):
        load_policy(path)
