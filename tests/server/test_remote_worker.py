"""A remote worker process killed mid-task: its lease expires and another worker gets the task."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.server.live import start_up

import orca
from orca.ledger import read_entries

pytestmark = pytest.mark.slow

WORKER = """
import sys, time, orca
client = orca.Client(sys.argv[1])
tasks = client.claim("billing", lease_ms=int(sys.argv[2]), worker="doomed")
print(tasks[0].id, tasks[0].attempt, flush=True)
time.sleep(600)   # mid-task: never heartbeats, never completes
"""


def test_killed_worker_lease_expires_and_task_is_redelivered(home: Path) -> None:
    """SIGKILL the worker holding the lease → task.lease_expired → claimed again (attempt 2)."""
    server = start_up(home)
    try:
        with orca.Client(server.url) as client:
            run = client.start_run("support")
            ack = client.submit(
                {
                    "id": "refund-A-17",
                    "run": run.id,
                    "kind": "agent_task",
                    "sender": "triage",
                    "recipient": "billing",
                    "payload": {"order": "A-17"},
                }
            )
            worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, server.url, "400"],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert worker.stdout is not None
            claimed = worker.stdout.readline().split()
            assert claimed == ["refund-A-17", "1"]
            worker.send_signal(signal.SIGKILL)
            worker.communicate(timeout=30)
            deadline = time.monotonic() + 30  # the lease is 0.4 s; the bound is for a slow box
            again = client.claim("billing", lease_ms=30_000, worker="survivor")
            while not again and time.monotonic() < deadline:
                time.sleep(0.1)
                again = client.claim("billing", lease_ms=30_000, worker="survivor")
            assert [(t.id, t.attempt) for t in again] == [("refund-A-17", 2)]
            client.complete(again[0].id, {"refunded": True}, attempt=2)
            client.end_run(run)
        code, out = server.stop()
        assert code == 0, out
    finally:
        server.kill()
    kinds = [e.kind for e in read_entries(home).entries if e.run == run.id]
    assert kinds == [
        "run.started",
        "envelope.accepted",
        "task.claimed",
        "task.lease_expired",
        "task.claimed",
        "task.completed",
        "run.ended",
    ]
    claims = [e for e in read_entries(home).entries if e.kind == "task.claimed"]
    assert all(e.args["task"] == ack.envelope_id for e in claims)
