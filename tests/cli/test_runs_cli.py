"""``orca runs``, ``orca runs show`` and ``orca runs events [--follow]`` over a real ledger."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from orca.cli import cli
from orca.orchestrator import Orchestrator, Task, TaskContext, VirtualClock


def _record(home: Path) -> str:
    """A finished run with a completion, a dead letter, a conflict and a result; one open run."""
    with Orchestrator.open(home, clock=VirtualClock(), seed=3) as orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> str:
            ctx.set_usage(10, 5, 0.002)
            if task.payload == "bad":
                raise RuntimeError("card declined")
            return "refunded"

        run = orch.start_run("support")
        base = {"run": run.id, "kind": "agent_task", "sender": "triage", "recipient": "billing"}
        orch.submit({**base, "id": "a", "payload": "ok"})
        orch.submit({**base, "id": "b", "payload": "bad"})
        try:
            orch.submit({**base, "id": "a", "payload": "other"})
        except Exception:
            pass
        orch.run_until_idle(inline=True)
        orch.submit({**base, "id": "r", "kind": "agent_result", "recipient": None, "payload": 1})
        orch.end_run(run)
        orch.start_run("later")
    return run.id


def test_runs_lists_newest_first_with_counts(home: Path) -> None:
    """Text and JSON list every run with tasks, dead letters, attempts and usage."""
    run = _record(home)
    out = CliRunner().invoke(cli, ["runs", "--home", str(home), "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["runs"]
    assert [r["workflow"] for r in rows] == ["later", "support"]
    support = rows[1]
    assert support["id"] == run
    assert (support["tasks"], support["completed"], support["dead_lettered"]) == (2, 1, 1)
    assert (support["attempts"], support["input_tokens"], support["status"]) == (6, 10, "ok")
    text = CliRunner().invoke(cli, ["runs", "--home", str(home)]).output
    assert run in text.splitlines()[2] and "10/5 $0.0020" in text


def test_runs_show_names_attempts_dead_letters_and_rejections(home: Path) -> None:
    """show: each task's attempts and outcome, the dead letter, the conflict, the result."""
    run = _record(home)
    out = CliRunner().invoke(cli, ["runs", "show", run[:10], "--home", str(home)])
    assert out.exit_code == 0, out.output
    assert "attempt 5 by billing: failed" in out.output
    assert "dead letters: b" in out.output
    assert "rejected a: idempotency-conflict" in out.output
    doc = json.loads(
        CliRunner().invoke(cli, ["runs", "show", run, "--home", str(home), "--json"]).output
    )
    assert [t["id"] for t in doc["dead_letters"]] == ["b"]
    assert doc["result"]["payload"] == 1
    assert len(doc["tasks"][1]["attempts"]) == 5


def test_unknown_run_is_one_line_and_exit_2(home: Path) -> None:
    """A run id nobody has: one line on stderr, exit code 2, no traceback."""
    _record(home)
    proc = subprocess.run(
        [sys.executable, "-m", "orca", "runs", "show", "nope", "--home", str(home)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["orca: no run 'nope'; `orca runs` lists them"]


def test_events_lists_and_follows_until_the_run_ends(home: Path) -> None:
    """events prints the run's entries; --follow keeps tailing until run.ended appears."""
    run = _record(home)
    out = CliRunner().invoke(cli, ["runs", "events", run, "--home", str(home), "--json"])
    kinds = [json.loads(line)["kind"] for line in out.output.splitlines()]
    assert kinds[0] == "run.started" and kinds[-1] == "run.ended"
    assert kinds.count("task.failed") == 5 and kinds.count("task.dead_lettered") == 1
    orch = Orchestrator.open(home, seed=4)
    live = orch.start_run("live")

    def finish() -> None:
        time.sleep(0.5)
        orch.end_run(live)

    t = threading.Thread(target=finish)
    t.start()
    proc = subprocess.run(
        [sys.executable, "-m", "orca", "runs", "events", live.id, "--follow", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    t.join()
    orch.close()
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[2] for line in proc.stdout.splitlines()] == ["run.started", "run.ended"]
