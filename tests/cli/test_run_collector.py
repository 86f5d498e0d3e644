"""``orca run`` beside a collector that already runs for the home (real subprocesses)."""

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orca.collector import lock_holder

PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    import orca
    rec = orca.Recorder.open()
    log = rec.logger("runner")
    turn = log.span("turn", attrs={"gen_ai.conversation.id": "c1"})
    for i in range(50):
        turn.child("step", attrs={"gen_ai.request.model": "m"}, body="x" * 2000).end()
    if sys.argv[1] == "crash":
        turn.child("tool-call", attrs={"gen_ai.tool.name": "shell"})
        os.kill(os.getpid(), signal.SIGKILL)
    turn.end()
    rec.close()
    sys.exit(int(sys.argv[1]))
    """
)

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from orca.collector import CollectorLock
    lock = CollectorLock(Path(sys.argv[1]))
    time.sleep(float(sys.argv[2]))
    lock.release()
    """
)


def _orca_run(home: Path, tmp_path: Path, arg: str, *opts: str) -> subprocess.CompletedProcess[str]:
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    return subprocess.run(
        [
            *(sys.executable, "-m", "orca", "run", "--home", str(home), *opts, "--"),
            *(sys.executable, str(prog), arg),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _hold(home: Path, cmd: list[str]) -> subprocess.Popen[bytes]:
    """Start ``cmd`` and wait until it holds ``home``'s collector lock."""
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 60
    while lock_holder(home) != proc.pid:
        assert proc.poll() is None, "the lock holder exited early"
        assert time.monotonic() < deadline, "the lock holder never took the lock"
        time.sleep(0.02)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def collector(home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``orca collect`` running in the background for ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "orca", "collect", "--home", str(home), "--interval-ms", "20"]
    proc = _hold(home, cmd)
    yield proc
    _stop(proc)


def test_run_waits_for_the_running_collector(
    home: Path, tmp_path: Path, collector: subprocess.Popen[bytes]
) -> None:
    """No lock complaint: the running collector ingests, the skeleton is complete."""
    proc = _orca_run(home, tmp_path, "3")
    assert proc.returncode == 3, proc.stderr
    assert f"a collector (pid {collector.pid}) is running for this home" in proc.stderr
    assert "already holds" not in proc.stderr and "gave up" not in proc.stderr
    assert "turn conv=c1" in proc.stdout and "step m" in proc.stdout
    assert "exited with code 3; 1 trace(s) recorded" in proc.stdout
    assert "⚠ unfinished" not in proc.stdout  # every close was ingested before printing
    assert collector.poll() is None and lock_holder(home) == collector.pid


def test_run_crash_is_attributed_by_the_running_collector(
    home: Path, tmp_path: Path, collector: subprocess.Popen[bytes]
) -> None:
    """A SIGKILLed program: the running collector declares the crash before we print."""
    proc = _orca_run(home, tmp_path, "crash")
    assert proc.returncode == 128 + 9, proc.stderr
    assert "gave up" not in proc.stderr
    assert "✖ process" in proc.stdout and "exited unexpectedly after span tool-call" in proc.stdout


def test_run_gives_up_with_a_clear_message(home: Path, tmp_path: Path) -> None:
    """A lock holder that never ingests: bounded wait, one clear line, the exit code kept."""
    home.mkdir(parents=True, exist_ok=True)
    holder = _hold(home, [sys.executable, "-c", HOLD_LOCK, str(home), "120"])
    try:
        proc = _orca_run(home, tmp_path, "0", "--wait", "0.5")
    finally:
        _stop(holder)
    assert proc.returncode == 0
    [line] = [x for x in proc.stderr.splitlines() if "gave up" in x]
    assert line.startswith("orca: collector: gave up after 0.5s waiting for the running")
    assert f"(pid {holder.pid})" in line and "bytes not ingested" in line
    assert "Traceback" not in proc.stderr


def test_run_drains_itself_when_the_running_collector_goes_away(home: Path, tmp_path: Path) -> None:
    """The holder releases the lock mid-wait: ``orca run`` drains with its own collector."""
    home.mkdir(parents=True, exist_ok=True)
    holder = _hold(home, [sys.executable, "-c", HOLD_LOCK, str(home), "1"])
    try:
        proc = _orca_run(home, tmp_path, "0")
    finally:
        _stop(holder)
    assert proc.returncode == 0, proc.stderr
    assert "gave up" not in proc.stderr and "already holds" not in proc.stderr
    assert "exited with code 0; 1 trace(s) recorded" in proc.stdout
