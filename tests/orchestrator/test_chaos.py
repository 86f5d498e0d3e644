"""Chaos: the process hosting the orchestrator is SIGKILLed at random points, then restarted.

Bounded in time (a handful of kills, each once the ledger grew by a seeded random amount); the
seed is printed on failure. Afterwards the ledger verifies, every acknowledged
envelope is in it once, no task completed twice, every run finished, and the
state from the snapshot equals a full replay.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from orca.ledger import ledger_path, read_entries, verify
from orca.orchestrator import Orchestrator

HOST = Path(__file__).with_name("chaos_host.py")
KILLS = int(os.environ.get("ORCA_CHAOS_KILLS", "5"))


def start(home: Path, seed: int, *, output: bool) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, str(HOST), str(home), str(seed)], stdout=pipe, stderr=pipe, text=True
    )


@pytest.mark.slow
def test_sigkilled_host_loses_nothing(home: Path) -> None:
    """Kill -9 the host repeatedly mid-workload; restart it; every invariant holds after."""
    seed = int(os.environ.get("ORCA_CHAOS_SEED", str(random.SystemRandom().randrange(10**6))))
    rng = random.Random(seed)
    killed = 0
    try:
        for i in range(KILLS):
            proc = start(home, seed * 100 + i, output=False)
            # Kill once the ledger has grown by a seeded amount: mid-workload however fast
            # the machine is (a wall-clock delay let an idle machine finish first).
            led = ledger_path(home)
            base = led.stat().st_size if led.exists() else 0
            grow = rng.randrange(2_000, 40_000)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if led.exists() and led.stat().st_size - base >= grow:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                    break
                time.sleep(0.002)
            proc.wait(30)
        final = start(home, seed * 100 + KILLS, output=True)
        out, err = final.communicate(timeout=180)
        assert final.returncode == 0 and "done" in out, err
        assert killed >= 1, "the workload finished before any kill: make it bigger"
        report = verify(home)
        assert report.ok, [p.line() for p in report.problems[:5]]
        entries = read_entries(home).entries
        ids = [e.id for e in entries]
        assert ids == list(range(1, len(ids) + 1))
        accepted = Counter(e.args["id"] for e in entries if e.kind == "envelope.accepted")
        assert len(accepted) == 120 and set(accepted.values()) == {1}
        completed = Counter(e.args["task"] for e in entries if e.kind == "task.completed")
        assert set(completed.values()) == {1}
        with Orchestrator.open(home) as orch:
            view = orch.state_view()
            runs = orch.runs()
            assert len(runs) == 3 and all(r.status == "ok" for r in runs)
            for run in runs:
                assert all(t.status in ("completed", "dead_lettered") for t in orch.tasks(run))
        with Orchestrator.open(home, use_snapshot=False) as full:
            assert full.state_view() == view
    except BaseException as exc:
        raise AssertionError(
            f"chaos seed {seed} ({killed} kills): reproduce with ORCA_CHAOS_SEED={seed}: {exc}"
        ) from exc
