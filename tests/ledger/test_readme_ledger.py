"""Docs are tests: the README's ledger section runs as written, Python block and shell block."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## The ledger", 1)[1].split("\n## ", 1)[0]


def test_readme_ledger_section_runs(tmp_path: Path) -> None:
    """The README's ledger Python snippet and each of its shell commands run and print something."""
    env = {**os.environ, "ORCA_HOME": str(tmp_path / "home")}
    section = _section()
    code = section.split("```python", 1)[1].split("```", 1)[0]
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(ln.split("#", 1)[0]) for ln in block.strip().splitlines()]
    assert [c[:2] for c in commands][:3] == [
        ["orca", "ledger"],
        ["orca", "verify"],
        ["orca", "ledger"],
    ]
    for cmd in commands:
        proc = subprocess.run(
            [sys.executable, "-m", "orca", *cmd[1:]],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, (cmd, proc.stderr)
        assert proc.stdout.strip(), cmd
