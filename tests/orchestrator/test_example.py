"""Docs are tests: the support-desk example's orchestrated run does what its docstring says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _orca(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args], env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.slow
def test_support_desk_redelivers_after_the_killed_worker_and_expires_the_survey(
    home: Path,
) -> None:
    """Billing's first attempt dies with its worker (lease expired), the second completes;
    the survey expires; the checks name both defects."""
    env = {**os.environ, "ORCA_HOME": str(home)}
    run = _orca(["run", "--", sys.executable, str(ROOT / "examples" / "support_desk.py")], env)
    assert run.returncode == 0, run.stderr
    assert "refund A-17 issued on attempt 2 after the billing worker died (-9)" in run.stdout
    show = _orca(["runs", "show", "last", "--json"], env)
    doc = json.loads(show.stdout)
    tasks = {t["id"]: t for t in doc["tasks"]}
    billing = tasks["case-A-17/billing"]
    assert [a["outcome"] for a in billing["attempts"]] == ["lease_expired", "completed"]
    assert billing["attempts"][0]["agent"] == "billing"
    assert tasks["case-A-17/survey"]["status"] == "expired"
    assert doc["result"]["payload"]["attempt"] == 2
    assert doc["run"]["status"] == "ok"
    check = json.loads(_orca(["check", "--all", "--json"], env).stdout)
    failed = {c["name"] for c in check["checks"] if not c["passed"]}
    assert {"expired-task", "duplicate-delivery", "crashed", "cache-bust"} <= failed
    assert not {"dead-letter", "retry-storm", "stuck-lease", "idempotency-conflict"} & failed
