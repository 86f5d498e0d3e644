"""One journal, two engines: `orca trace/check/stats/search --json` print the same documents."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orca.cli import cli
from orca.store import STORE_ENV

PROGRAM = """
import sys, orca
rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None)
log = rec.logger("support")
for i in range(3):
    with log.span("turn", attrs={"gen_ai.conversation.id": f"c{i}"}) as turn:
        turn.log.info(f"customer {i} wants a refund")
        with turn.child("step", attrs={"gen_ai.request.model": "m-1"}) as step:
            req = step.child("provider.request", attrs={"gen_ai.request.model": "m-1"},
                             body='{"messages": [{"role": "user", "content": "refund please"}]}')
            req.end(attrs={"gen_ai.usage.input_tokens": 100 + i,
                           "gen_ai.usage.output_tokens": 7, "orca.cost.usd": 0.01},
                    body='{"choices": [{"message": {"content": "refund approved"}}]}')
        tool = turn.child("tool-call", attrs={"gen_ai.tool.name": "lookup"})
        tool.end(status="error" if i == 2 else None,
                 attrs={"error.type": "Timeout"} if i == 2 else None)
rec.close()
"""


def _collect(home: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orca", "collect", "--once", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr


def _docs(home: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv(STORE_ENV, url)
    runner = CliRunner()

    def run(*args: str) -> Any:
        out = runner.invoke(cli, [*args, "--home", str(home), "--json"])
        assert out.exit_code in (0, 1), out.output
        return json.loads(out.output)

    return {
        "trace": run("trace", "last"),
        "check": run("check", "--all"),
        "stats": run("stats"),
        "stats-model": run("stats", "--by", "model"),
        "search": run("search", "refund"),
        "search-logs": run("search", "customer", "--in", "logs"),
    }


@pytest.mark.slow
def test_cli_json_is_the_same_on_both_engines(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same journal collected into SQLite and into PostgreSQL reads back identically."""
    a, b = tmp_path / "a", tmp_path / "b"
    subprocess.run([sys.executable, "-c", PROGRAM, str(a)], check=True, timeout=120)
    shutil.copytree(a / "journal", b / "journal")
    sqlite_url = f"sqlite://{a / 'store.sqlite'}"
    env = {k: v for k, v in __import__("os").environ.items() if k != STORE_ENV}
    _collect(a, {**env, STORE_ENV: sqlite_url})
    _collect(b, {**env, STORE_ENV: pg_url})
    on_sqlite = _docs(a, sqlite_url, monkeypatch)
    on_pg = _docs(b, pg_url, monkeypatch)
    assert on_sqlite["search"]["hits"] and on_sqlite["trace"]["trace"]
    for name in on_sqlite:
        if on_pg[name] != on_sqlite[name]:
            print(json.dumps(on_sqlite[name], indent=1), json.dumps(on_pg[name], indent=1))
        assert on_pg[name] == on_sqlite[name], name
