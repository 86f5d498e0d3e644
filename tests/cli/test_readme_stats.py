"""Docs are tests: the README's stats / ``orca run`` section runs as written."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Stats over a big store, and `orca run` beside a running collector"

AGENT = """
import orca
rec = orca.Recorder.open()
turn = rec.logger("agent").span("turn")
turn.child("tool-call", attrs={"gen_ai.tool.name": "lookup"}).end()
turn.end()
rec.close()
"""


def _commands() -> list[list[str]]:
    section = (ROOT / "README.md").read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]


def test_readme_stats_section_runs(tmp_path: Path) -> None:
    """``orca run`` records the agent; both stats commands then show its spans."""
    (tmp_path / "my_agent.py").write_text(AGENT)
    env = {**os.environ, "ORCA_HOME": str(tmp_path / "home")}
    commands = _commands()
    assert [c[:2] for c in commands] == [["orca", "stats"], ["orca", "stats"], ["orca", "run"]]
    outputs = []
    for cmd in [commands[2], *commands[:2]]:  # record first, then read
        args = [sys.executable if a == "python" else a for a in cmd[1:]]
        done = subprocess.run(
            [sys.executable, "-m", "orca", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, (cmd, done.stderr)
        outputs.append(done.stdout)
    recorded, by_name, by_tool = outputs
    assert "1 trace(s) recorded" in recorded
    assert "turn" in by_name and "tool-call" in by_name
    assert by_tool.splitlines()[1].split()[:2] == ["lookup", "1"]
