"""``orca policy check|test|show`` as a user runs them."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from orca.cli import cli

POLICY = """\
tool_allowlist: [search, calc]
rules:
  - name: no-shell-payload
    priority: 10
    phase: pre_submit
    match: {payload: [{path: $.cmd, regex: "rm -rf"}]}
    action: deny
    reason: dangerous-shell
  - name: flag-billing
    phase: pre_submit
    match: {recipient: billing}
    action: allow_but_flag
"""
CASES = """\
cases:
  - name: rm is denied
    phase: pre_submit
    input: {tool: search, payload: {cmd: "rm -rf /"}}
    expect: {decision: deny, rule: no-shell-payload, reasons: [dangerous-shell]}
  - name: unknown tool is denied by the allowlist
    phase: pre_submit
    input: {tool: shell}
    expect: {decision: deny, rule: tool_allowlist}
  - name: cards are redacted
    phase: pre_submit
    input: {payload: {note: "card 4111 1111 1111 1111"}}
    expect: {decision: modify, rule: pii, payload: {note: "card [CARD_1]"}}
  - name: billing is flagged
    phase: pre_submit
    input: {recipient: billing}
    expect: {decision: allow_but_flag, rule: flag-billing}
"""


def _orca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args], capture_output=True, text=True, check=False
    )


def test_check_explains_a_good_file(tmp_path: Path) -> None:
    """check prints rules in precedence order and the sha256; --json gives the same as data."""
    (tmp_path / "p.yaml").write_text(POLICY)
    result = CliRunner().invoke(cli, ["policy", "check", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output
    assert "no-shell-payload (dangerous-shell)" in result.output and "OK: 2 rules" in result.output
    lines = result.output.splitlines()
    assert lines.index(next(x for x in lines if "no-shell-payload" in x)) < lines.index(
        next(x for x in lines if "flag-billing" in x)
    )
    doc = json.loads(
        CliRunner().invoke(cli, ["policy", "check", "--json", str(tmp_path / "p.yaml")]).output
    )
    assert doc["ok"] and len(doc["sha256"]) == 64
    assert [r["name"] for r in doc["phases"]["pre_submit"]] == ["no-shell-payload", "flag-billing"]


def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A misspelt key: one line naming file, line and field; exit 2; no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("    priority: 10", "    priorty: 10"))
    out = _orca("policy", "check", str(bad))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == f"orca: {bad}:4: rules[0].priorty: unknown key (check its spelling)"
    )
    assert "Traceback" not in out.stderr


def test_cases_pass_and_fail_like_opa_test(tmp_path: Path) -> None:
    """test runs each case; all pass → 0; a wrong expectation → 1 with what differed."""
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "cases.yaml").write_text(CASES)
    result = CliRunner().invoke(
        cli, ["policy", "test", str(tmp_path / "p.yaml"), str(tmp_path / "cases.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "4 passed, 0 failed" in result.output
    (tmp_path / "cases.yaml").write_text(
        CASES.replace("decision: allow_but_flag", "decision: allow")
    )
    result = CliRunner().invoke(
        cli, ["policy", "test", "--json", str(tmp_path / "p.yaml"), str(tmp_path / "cases.yaml")]
    )
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["failed"] == 1
    [bad] = [c for c in doc["cases"] if not c["passed"]]
    assert bad["problems"] == ["decision: expected allow, got allow_but_flag"]
    (tmp_path / "cases.yaml").write_text(
        "cases:\n  - name: x\n    phase: pre_submit\n    expect: {decison: deny}\n"
    )
    out = _orca("policy", "test", str(tmp_path / "p.yaml"), str(tmp_path / "cases.yaml"))
    assert out.returncode == 2 and "cases.yaml:4: cases[0].expect" in out.stderr


def test_show_reports_mode_file_and_hash(home: Path) -> None:
    """show: open with no file; closed with a file prints its rules and sha256."""
    result = CliRunner().invoke(cli, ["policy", "show", "--home", str(home)])
    assert "mode: open" in result.output and "every governed action is allowed" in result.output
    (home / "config.toml").write_text('policy = "closed"\n')
    result = CliRunner().invoke(cli, ["policy", "show", "--home", str(home)])
    assert "denied (no-policy)" in result.output
    (home / "policy.yaml").write_text(POLICY)
    doc = json.loads(
        CliRunner().invoke(cli, ["policy", "show", "--json", "--home", str(home)]).output
    )
    assert doc["mode"] == "closed" and doc["policy"]["rules"] == 2 and doc["error"] is None
    (home / "policy.yaml").write_text("rules: [1]\n")
    doc = json.loads(
        CliRunner().invoke(cli, ["policy", "show", "--json", "--home", str(home)]).output
    )
    assert doc["policy"] is None and "policy.yaml:1" in doc["error"]
