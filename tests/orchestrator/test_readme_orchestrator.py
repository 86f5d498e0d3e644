"""Docs are tests: the README orchestrator section runs as written (Python, then shell)."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_readme_orchestrator_section_runs(tmp_path: Path) -> None:
    """The Python block prints the run's result; each `orca runs` command then succeeds."""
    env = {**os.environ, "ORCA_HOME": str(tmp_path / "home")}
    text = (ROOT / "README.md").read_text()
    section = text.split("## Orchestrate agents", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'refunded': 'A-17'}"
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(ln.split("#", 1)[0]) for ln in block.strip().splitlines()]
    assert [c[:2] for c in commands] == [["orca", "runs"]] * 3
    for cmd in commands:
        out = subprocess.run(
            [sys.executable, "-m", "orca", *cmd[1:]],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, (cmd, out.stderr)
        assert "support" in out.stdout or "run.started" in out.stdout, cmd
