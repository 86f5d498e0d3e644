"""Docs are tests: the README's `orca up` section runs against a live server, as written."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.server.live import start_up

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "http://127.0.0.1:7340"


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Serve it: `orca up`", 1)[1].split("\n## ", 1)[0]


def test_readme_client_example_runs(home: Path) -> None:
    """The Python block runs unchanged but for the URL, and prints the run's event kinds."""
    code = _section().split("```python", 1)[1].split("```", 1)[0]
    assert DEFAULT_URL in code
    server = start_up(home)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code.replace(DEFAULT_URL, server.url)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == (
            "['run.started', 'envelope.accepted', 'task.claimed', 'task.completed', 'run.ended']"
        )
        for line in _section().split("```sh", 1)[1].split("```", 1)[0].splitlines():
            if line.startswith("curl -s 127.0.0.1:7340"):
                path = line.split()[2].removeprefix("127.0.0.1:7340")
                assert httpx.get(server.url + path, timeout=30).status_code == 200, path
    finally:
        code_, out_ = server.stop()
    assert code_ == 0, out_
