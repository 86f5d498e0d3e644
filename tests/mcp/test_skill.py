"""Docs are tests: every command the agent skill shows runs against the example's store."""

import json
import re
import shlex
from pathlib import Path

from .conftest import ROOT, orca

SKILL = ROOT / "docs" / "skills" / "orca-debugging" / "SKILL.md"


def skill_commands() -> list[list[str]]:
    """The `orca …` commands of the skill: its sh blocks and its inline `orca …` spans."""
    text = SKILL.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    inline = re.findall(r"`(orca [^`]+)`", text)
    cmds = [line.strip() for b in blocks for line in b.splitlines() if line.strip()]
    inline = [c for c in inline if len(c.split()) >= 3]  # `orca check` in prose is no command
    return [shlex.split(c) for c in cmds + inline]


def test_front_matter_names_the_skill() -> None:
    """The Agent Skills format: YAML front matter with name and description."""
    head = SKILL.read_text().split("---")[1]
    assert re.search(r"^name: orca-debugging$", head, re.M)
    assert re.search(r"^description: .{40,}", head, re.M)


def test_every_skill_command_runs(desk_home: Path) -> None:
    """Each command exits 0 (or 1 for `check` with findings) with ids taken from `check`."""
    found = orca("check", "--all", "--json", home=desk_home)
    doc = json.loads(found.stdout)
    bust = next(c for c in doc["checks"] if c["name"] == "cache-bust")
    a, b = bust["findings"][-1]["span_ids"][:2]
    fill = {"SPAN": a[:8], "SPAN_A": a[:8], "SPAN_B": b[:8]}
    cmds = skill_commands()
    assert len(cmds) >= 8
    for cmd in cmds:
        assert cmd[0] == "orca"
        args = [fill.get(x, x) for x in cmd[1:]]
        proc = orca(*args, home=desk_home)
        want = (1,) if args[0] == "check" else (0,)
        assert proc.returncode in want, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        if "--json" in args:
            json.loads(proc.stdout)
