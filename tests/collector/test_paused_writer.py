"""Item 6: a live process that pauses (SIGSTOP) is not declared crashed on this host."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orca.collector import Collector, CollectorConfig

CHILD = """
import sys, orca
rec = orca.Recorder.open(sys.argv[1], heartbeat_s=0.05)
span = rec.logger("paused").span("turn")
print("ready", flush=True)
sys.stdin.readline()
span.end()
rec.close()
"""


def _config() -> CollectorConfig:
    return CollectorConfig(
        stale_heartbeat_s=0.2, search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9
    )


def test_item06_stopped_process_is_not_crashed(home: Path, tmp_path: Path) -> None:
    """SIGSTOP past the (injected, short) staleness threshold, SIGCONT, clean exit: not crashed."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    with subprocess.Popen(
        [sys.executable, str(script), str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            _pause_and_resume(home, proc)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
                proc.wait()


def _pause_and_resume(home: Path, proc: "subprocess.Popen[str]") -> None:
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    with Collector(home, _config()) as c:
        deadline = time.monotonic() + 30
        while not any(p.heartbeat_ns for p in c.store.processes()):  # it really sent heartbeats
            assert time.monotonic() < deadline, "no heartbeat ingested"
            c.step()
        os.kill(proc.pid, signal.SIGSTOP)
        # heartbeats have stopped; a clock far past the threshold makes them stale
        far = time.time_ns() + 3600 * 10**9
        assert c.step(now_ns=far).crashed == []
        os.kill(proc.pid, signal.SIGCONT)
        assert proc.stdin is not None
        proc.stdin.write("done\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
        c.drain()
        [trace] = c.store.list_traces()
        assert trace.status == "ok"
        full = c.store.get_trace(trace.trace_id)
        assert full is not None and [s.name for s in full.spans] == ["turn"]
