"""Docs are tests: the provider-capture example runs, and its trace passes ``orca check``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_provider_capture_example_runs_and_checks_clean(home: Path) -> None:
    """examples/provider_capture.py runs, collects and passes `orca check last`."""
    env = {**os.environ, "ORCA_HOME": str(home)}
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "provider_capture.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Order 7 shipped yesterday." in run.stdout
    orca = str(bin_dir / "orca")
    subprocess.run([orca, "collect", "--once"], env=env, check=True, capture_output=True)
    check = subprocess.run([orca, "check", "last"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok orphan-tool-call" in check.stdout and "ok cache-bust" in check.stdout
    trace = subprocess.run([orca, "trace", "last"], env=env, capture_output=True, text=True)
    assert "provider.request" in trace.stdout and "prompt.assembly" in trace.stdout
