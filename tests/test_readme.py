"""Docs are tests: every command of the README quickstart runs, as a user would type it."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEX8 = re.compile(r"^[0-9a-f]{8}$")


def quickstart_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart: debug a broken agent turn", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]


def _orca(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


@pytest.mark.slow
def test_readme_quickstart(tmp_path: Path) -> None:
    """Each quickstart command succeeds (check exits 1: it has findings), ids taken from check."""
    env = {**os.environ, "ORCA_HOME": str(tmp_path / "home")}
    commands = quickstart_commands()
    assert [c[:2] for c in commands][:4] == [
        ["orca", "run"],
        ["orca", "traces"],
        ["orca", "trace"],
        ["orca", "check"],
    ]
    ids: list[str] = []
    for cmd in commands:
        assert cmd[0] == "orca"
        args = [sys.executable if a == "python" else a for a in cmd[1:]]
        if any(HEX8.match(a) for a in args):
            assert ids, "check must run before commands that take ids"
            real = iter(ids)
            args = [next(real) if HEX8.match(a) else a for a in args]
        proc = _orca(args, env)
        if args[0] == "check":
            assert proc.returncode == 1, proc.stderr
            doc = json.loads(_orca([*args, "--json"], env).stdout)
            bust = next(c for c in doc["checks"] if c["name"] == "cache-bust")
            ids = bust["findings"][-1]["span_ids"][-1:] + bust["findings"][-1]["span_ids"]
            assert {c["name"] for c in doc["checks"] if not c["passed"]} >= {
                "crashed",
                "orphan-tool-call",
                "cache-bust",
            }
        else:
            assert proc.returncode == 0, (cmd, proc.stderr)
        assert "Traceback" not in proc.stderr
        if args[0] == "diff":
            assert "bytes differ at offset" in proc.stdout
            assert "key order changed" in proc.stdout
        if args[0] == "search":
            assert "refund" in proc.stdout.lower()
