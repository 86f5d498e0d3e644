"""Docs are tests: the README's "Bad input and faults" commands do what their comments say."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Bad input and faults", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_bad_input_section(tmp_path: Path) -> None:
    """Valid commands exit 0; the bad ones exit 2 with one line and no traceback."""
    home = tmp_path / "home"
    expected = [0, 2, 2, 0]
    commands = _commands()
    assert len(commands) == len(expected)
    for line, code in zip(commands, expected, strict=True):
        words = shlex.split(line)
        env = {**os.environ, "ORCA_HOME": str(home)}
        while "=" in words[0]:
            key, value = words.pop(0).split("=", 1)
            env[key] = value
        assert words[0] == "orca"
        args = [sys.executable if w == "python" else w for w in words[1:]]
        if "--home" in args:
            args[args.index("--home") + 1] = str(tmp_path / "typo")
        if args[0] == "traces" and not home.exists():
            subprocess.run(
                [sys.executable, "-m", "orca", "run", "--", sys.executable, "-c", "pass"],
                env=env, capture_output=True, check=True,
            )  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "orca", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == code, (line, done.stderr)
        assert "Traceback" not in done.stderr
        if code == 2:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
