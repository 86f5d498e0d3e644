"""Your own checks: registered with the decorator or loaded from the home config / entry points."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orca.capture import Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.query import CHECKS, CheckError, CheckScope, Finding, check, run_checks

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
# The user check of docs/checks.md, run as written: the docs are tested.
USER_MODULE = DOCS.read_text().split("# my_checks.py\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def refund_home(home: Path) -> Path:
    """A home with one recorded turn that refunds without looking the order up."""
    rec = Recorder.open(home, heartbeat_s=None)
    with rec.logger("desk").span("turn") as turn:
        turn.child("tool-call", {"gen_ai.tool.name": "issue_refund"}).end()
    rec.close()
    with Collector(home) as c:
        c.drain()
    return home


@pytest.fixture
def in_process_check() -> Iterator[str]:
    """A check registered from this test module with the decorator; removed afterwards."""

    @check("no-refund-tool", ok="no refund tool ran", about="flags every issue_refund call")
    def no_refund(scope: CheckScope) -> list[Finding]:
        return [
            Finding(f"refund in {s.span_id[:8]}", [s.span_id], s.trace_id, "orca trace last")
            for s in scope.spans
            if s.attrs.get("gen_ai.tool.name") == "issue_refund"
        ]

    yield "no-refund-tool"
    CHECKS.pop("no-refund-tool")


def test_user_check_runs_in_orca_check_and_json(refund_home: Path, in_process_check: str) -> None:
    """The decorated check runs with the built-ins, in text and in --json, with its next step."""
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "last", "--home", str(refund_home)])
    assert out.exit_code == 1 and f"✖  {in_process_check}" in out.output
    assert "next  orca trace last" in out.output
    doc = json.loads(
        runner.invoke(cli, ["check", "last", "--home", str(refund_home), "--json"]).output
    )
    [mine] = [c for c in doc["checks"] if c["name"] == in_process_check]
    assert not mine["passed"] and mine["findings"][0]["next"] == "orca trace last"
    listed = runner.invoke(cli, ["check", "--list", "--home", str(refund_home)]).output
    assert f"{in_process_check}" in listed and "user: " in listed and "[built-in]" in listed


def _orca(home: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_module_from_home_config(refund_home: Path, tmp_path: Path) -> None:
    """``[checks] modules = ["…/my_checks.py"]`` loads a user file for the real CLI."""
    mod = tmp_path / "my_checks.py"
    mod.write_text(USER_MODULE)
    (refund_home / "config.toml").write_text(f'[checks]\nmodules = ["{mod}"]\n')
    out = _orca(refund_home, "check", "last")
    assert out.returncode == 1, out.stderr
    assert "✖  refund-without-lookup" in out.stdout and "no lookup_order first" in out.stdout
    listed = _orca(refund_home, "check", "--list", "--json")
    names = {c["name"]: c["builtin"] for c in json.loads(listed.stdout)["checks"]}
    assert names["refund-without-lookup"] is False and names["tool-loop"] is True


def test_entry_point_group(refund_home: Path, tmp_path: Path) -> None:
    """An installed package's ``orca.checks`` entry point is loaded too."""
    (tmp_path / "acme_checks.py").write_text(USER_MODULE)
    dist = tmp_path / "acme_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[orca.checks]\nacme = acme_checks\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = _orca(refund_home, "check", "last", "--only", "refund-without-lookup", env=env)
    assert out.returncode == 1 and "issue_refund ran with no lookup_order first" in out.stdout


def test_bad_user_module_is_one_line_exit_2(refund_home: Path, tmp_path: Path) -> None:
    """A module that fails to import: one line naming it and what to do, exit 2."""
    mod = tmp_path / "broken.py"
    mod.write_text("raise ImportError('no such thing')\n")
    (refund_home / "config.toml").write_text(f'[checks]\nmodules = ["{mod}"]\n')
    out = _orca(refund_home, "check", "last")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "could not be loaded" in out.stderr and "Traceback" not in out.stderr


def test_a_raising_check_is_reported_not_fatal(tb: Any) -> None:
    """A check that raises fails with the exception named; the others still run."""

    @check("always-raises", ok="-", about="raises")
    def boom(scope: CheckScope) -> list[Finding]:
        raise ZeroDivisionError("oops")

    try:
        t = tb("x")
        t.span("turn")
        results = {r.name: r for r in run_checks([t.rows()])}
        assert results["always-raises"].error == "ZeroDivisionError: oops"
        assert "fix " in results["always-raises"].verdict and results["crashed"].passed
    finally:
        CHECKS.pop("always-raises")


def test_registration_errors() -> None:
    """Bad names, and a second function under a taken name, are clear errors."""
    with pytest.raises(CheckError, match="lower-case"):
        check("Bad Name", ok="-", about="-")
    with pytest.raises(CheckError, match=r"already registered by orca\.query"):

        @check("tool-loop", ok="-", about="-")
        def other(scope: CheckScope) -> list[Finding]:
            return []


def test_docs_have_a_section_per_builtin_check() -> None:
    """docs/checks.md explains every built-in check."""
    text = DOCS.read_text()
    missing = [n for n, spec in CHECKS.items() if spec.builtin and f"### `{n}`" not in text]
    assert not missing


def test_plain_call_registration_takes_about_from_the_docstring() -> None:
    """``check(name, ok=...)(fn)``: the --list line is the function's first docstring line."""

    def dead_letter(scope: CheckScope) -> list[Finding]:
        """A task ran out of attempts.

        More words.
        """
        return []

    check("dead-letter-demo", ok="no dead letters")(dead_letter)
    try:
        assert CHECKS["dead-letter-demo"].about == "A task ran out of attempts."
    finally:
        CHECKS.pop("dead-letter-demo")
