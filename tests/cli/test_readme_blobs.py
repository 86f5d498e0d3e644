"""Docs are tests: the README's blob store section runs as written."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from orca.capture import Recorder
from orca.collector import Collector

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Big bodies: the blob store"


def _commands() -> list[list[str]]:
    section = (ROOT / "README.md").read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]


def test_readme_blobs_section_runs(home: Path) -> None:
    """A 300 KB body becomes a blob; every command of the section exits 0 on it."""
    rec = Recorder.open(home, heartbeat_s=None)
    rec.logger("agent").span("provider.request", body="p" * 100 + os.urandom(150_000).hex()).end()
    rec.close()
    with Collector(home) as collector:
        collector.drain()
    commands = _commands()
    assert [c[:3] for c in commands] == [
        ["orca", "blobs", "ls"],
        ["orca", "blobs", "verify"],
        ["orca", "blobs", "gc"],
        ["orca", "blobs", "rotate-key"],
    ]
    env = {**os.environ, "ORCA_HOME": str(home)}
    for cmd in commands:
        done = subprocess.run(
            [sys.executable, "-m", "orca", *cmd[1:]], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (cmd, done.stderr)
    listed = subprocess.run(
        [sys.executable, "-m", "orca", "blobs", "ls", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [row["size"] for row in json.loads(listed.stdout)] == [300_100]
