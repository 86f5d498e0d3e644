"""The README's governance section runs as written."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from orca.governance import read_config

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Governance: policy and budgets", 1)[1].split("\n## ", 1)[0]


def test_readme_commands_and_config_work(tmp_path: Path) -> None:
    """Each `orca policy` command succeeds; the config block closes the home."""
    section = _section()
    commands = section.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    config = section.split("```toml", 1)[1].split("```", 1)[0]
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "ORCA_HOME": str(home)}
    outputs = []
    for line in commands:
        args = shlex.split(line)
        assert args[0] == "orca"
        proc = subprocess.run(
            [sys.executable, "-m", "orca", *args[1:]],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, (line, proc.stderr)
        outputs.append(proc.stdout)
    assert "OK: 4 rules" in outputs[0] and "8 passed, 0 failed" in outputs[1]
    assert "mode: open" in outputs[2]
    (home / "config.toml").write_text(config)
    cfg = read_config(home)
    assert cfg.mode == "closed" and cfg.budget is not None and cfg.budget.cost_usd == 5.0
