"""`orca up` as a user runs it: a real process, a real port, a real collector child, SIGTERM."""

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server.live import Up, start_up

import orca
from orca.ledger import read_entries
from orca.store import open_store

pytestmark = pytest.mark.slow


@pytest.fixture
def up(home: Path) -> Iterator[Up]:
    """A live `orca up` on a fresh home, stopped by the test (or killed at teardown)."""
    server = start_up(home)
    try:
        yield server
    finally:
        server.kill()


def test_up_serves_then_stops_on_sigterm_with_collector_drained(up: Up, home: Path) -> None:
    """Start → answer → record → SIGTERM: exit 0, and every record written is in the store."""
    assert "next: open http://127.0.0.1:" in up.first_lines[1]
    assert up.url.startswith("http://127.0.0.1:")  # loopback by default
    rec = orca.Recorder.open(home, heartbeat_s=None)
    log = rec.logger("agent")
    for i in range(50):
        with log.span("turn", attrs={"i": i}) as turn:
            turn.child("step").end()
    with orca.Client(up.url) as client:  # governed actions too: the ledger must verify after
        run = client.start_run("support")
        for n in range(20):
            client.submit(
                {
                    "id": f"e{n}",
                    "run": run.id,
                    "kind": "agent_task",
                    "sender": "a",
                    "recipient": "b",
                    "payload": n,
                }
            )
    code, out = up.stop(signal.SIGTERM)
    rec.close()
    assert code == 0, out
    assert "collector: drained and stopped" in out
    assert "Traceback" not in out
    entries = read_entries(home).entries
    with open_store(home) as store:
        assert len(store.list_traces(limit=None)) == 51  # 50 turns and the run's trace
        assert [e.id for e in store.ledger_entries()] == [e.id for e in entries]
    verify = subprocess.run(
        [sys.executable, "-m", "orca", "verify", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert not (home / "server.lock").read_text().strip()  # the lock names nobody now


def test_second_up_on_the_same_home_names_the_holder(up: Up, home: Path) -> None:
    """A second `orca up` on the home exits 2 with one line naming the first one's pid."""
    proc = subprocess.run(
        [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"pid {up.proc.pid}" in lines[0]
    assert up.proc.poll() is None  # the first one is untouched


def test_port_in_use_is_one_line(home: Path) -> None:
    """A taken port: exit 2 and one line saying which port and what to pass instead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f":{port}" in proc.stderr and "--port" in proc.stderr
    assert not any(p.name.startswith("collector") for p in home.glob("*.lock") if p.stat().st_size)


def test_ctrl_c_stops_cleanly(up: Up) -> None:
    """SIGINT (Ctrl-C) is a clean stop too: exit 0, the collector drained."""
    code, out = up.stop(signal.SIGINT)
    assert code == 0, out
    assert "collector: drained and stopped" in out


def test_ledger_held_elsewhere_is_one_line_and_nothing_left_running(home: Path) -> None:
    """Another process appending to the ledger: exit 2, one line, no collector started."""
    from orca.ledger import Ledger

    with Ledger.open(home):
        proc = subprocess.run(
            [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", "0"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "open for appending in another process" in proc.stderr
    assert proc.stdout == ""  # it failed before starting the collector or printing a URL
    assert not (home / "server.lock").read_text().strip()
