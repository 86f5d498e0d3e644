"""The ledger's commands as a user runs them: verify, ledger, replay; errors are one line."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from orca.cli import cli
from orca.ledger import Ledger


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _fill(home: Path) -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    with Ledger.open(home, checkpoint_every=3) as led:
        led.append({"kind": "run.started", "actor": "orchestrator", "run": "r1", "trace": trace})
        for i in range(4):
            led.append(
                {"kind": "task.claimed", "actor": f"agent-{i}", "run": "r1", "trace": trace,
                 "args": {"task": i}}
            )  # fmt: skip
        led.append({"kind": "run.started", "actor": "orchestrator", "run": "r2"})
        led.append({"kind": "budget.warning", "run": "r2", "meta": {"used": 0.8}})


def test_verify_ok_and_json(home: Path) -> None:
    """`orca verify` says OK with the entry count, in text and as JSON with no problems."""
    _fill(home)
    r = _run("verify", "--home", str(home))
    assert r.exit_code == 0 and "ledger OK: 7 entries" in r.output
    doc = json.loads(_run("verify", "--home", str(home), "--json").output)
    assert doc["ok"] is True and doc["entries"] == 7 and doc["problems"] == []


def test_verify_names_the_entry_and_exits_1(home: Path) -> None:
    """A tampered payload makes `verify` exit 1 naming the entry; --from past it verifies clean."""
    _fill(home)
    path = home / "ledger" / "ledger.ndjson"
    path.write_bytes(path.read_bytes().replace(b'"args":{"task":2}', b'"args":{"task":9}'))
    r = _run("verify", "--home", str(home))
    assert r.exit_code == 1
    assert "modified: entry 4: payload does not match its committed hash" in r.output
    doc = json.loads(_run("verify", "--home", str(home), "--json").output)
    assert [(p["kind"], p["entry"]) for p in doc["problems"]] == [("modified", 4)]
    assert _run("verify", "--home", str(home), "--from", "5").exit_code == 0


def test_prove_and_consistency(home: Path) -> None:
    """`ledger prove` and `ledger consistency` print proofs that verify, in text and JSON."""
    _fill(home)
    r = _run("ledger", "prove", "3", "--home", str(home))
    assert r.exit_code == 0 and "verified: yes" in r.output
    doc = json.loads(_run("ledger", "prove", "3", "--home", str(home), "--json").output)
    assert doc["verified"] and doc["tree_size"] == 7 and doc["leaf_index"] == 2
    sizes = json.loads(_run("ledger", "checkpoints", "--home", str(home), "--json").output)
    first, last = sizes["checkpoints"][0]["size"], sizes["checkpoints"][-1]["size"]
    r = _run("ledger", "consistency", str(first), str(last), "--home", str(home))
    assert r.exit_code == 0 and "consistent: yes" in r.output


def test_append_tail_forget_checkpoint_rotate(home: Path) -> None:
    """append, tail, forget, rotate-key and checkpoint from the CLI leave a valid ledger."""
    r = _run(
        "ledger", "append", "policy.decision", "--actor", "policy", "--run", "r9",
        "--args", '{"rule": "no-pii"}', "--result", '"deny"', "--home", str(home),
    )  # fmt: skip
    assert r.exit_code == 0 and r.output.startswith("1 ")
    assert "policy.decision" in _run("ledger", "tail", "--home", str(home)).output
    assert "payload erased" in _run("ledger", "forget", "1", "--home", str(home)).output
    assert "[payload erased]" in _run("ledger", "tail", "--home", str(home)).output
    assert "active key" in _run("ledger", "rotate-key", "--home", str(home)).output
    _run("ledger", "append", "after.rotation", "--home", str(home))
    assert "size=2" in _run("ledger", "checkpoint", "--home", str(home)).output
    doc = json.loads(_run("verify", "--home", str(home), "--json").output)
    assert doc["ok"] and doc["erased"] == 1 and len(doc["keys"]) == 2


def test_replay_filters_are_half_open_and_output_is_deterministic(home: Path) -> None:
    """replay ranges are half-open, filters apply, and to-trace output is deterministic."""
    _fill(home)
    out = _run("replay", "inspect", "--home", str(home), "--from", "2", "--to", "4").output
    assert [ln.split()[0] for ln in out.splitlines()] == ["#2", "#3"]
    out = _run("replay", "inspect", "--home", str(home), "--run", "r2").output
    assert [ln.split()[0] for ln in out.splitlines()] == ["#6", "#7"]
    assert (
        len(_run("replay", "inspect", "--home", str(home), "--max", "2").output.splitlines()) == 2
    )
    one = _run("replay", "to-trace", "--home", str(home), "--run", "r1").output
    two = _run("replay", "to-trace", "--home", str(home), "--run", "r1").output
    assert one == two
    doc = json.loads(one)
    assert doc["count"] == 5 and len(doc["traces"]) == 1
    assert [e["id"] for e in doc["traces"][0]["entries"]] == [1, 2, 3, 4, 5]
    assert doc["traces"][0]["trace"] == "0af7651916cd43dd8448eb211c80319c"
    later = json.loads(_run("replay", "to-trace", "--home", str(home)).output)
    ts6 = next(e for t in later["traces"] for e in t["entries"] if e["id"] == 6)["ts"]
    since = _run("replay", "inspect", "--home", str(home), "--since", str(ts6)).output
    assert since.splitlines()[0].startswith("#6")
    iso = _run("replay", "inspect", "--home", str(home), "--since", "2000-01-01T00:00:00Z")
    assert len(iso.output.splitlines()) == 7


def _orca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args], capture_output=True, text=True, check=False
    )


def test_errors_are_one_line_without_traceback(home: Path) -> None:
    """Each bad ledger/replay/verify argument is one `orca:` line on stderr, exit 2."""
    _fill(home)
    cases = [
        ("ledger", "append", "bad kind!", "--home", str(home)),
        ("ledger", "append", "ok", "--args", "{nope", "--home", str(home)),
        ("ledger", "prove", "99", "--home", str(home)),
        ("ledger", "consistency", "2", "5", "--home", str(home)),
        ("replay", "inspect", "--since", "yesterday-ish", "--home", str(home)),
        ("verify", "--home", str(home / "missing")),
    ]
    for args in cases:
        proc = _orca(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("orca: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr
