"""Item 11: `orca run` passes SIGTERM on, drains, and says why nothing was recorded."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from orca.journal import process_alive

SLEEPER = textwrap.dedent(
    """
    import sys, time, orca
    rec = orca.Recorder.open(heartbeat_s=None)
    turn = rec.logger("sleeper").span("turn")
    turn.child("step").end()
    print("pid", __import__("os").getpid(), flush=True)
    time.sleep(60)
    """
)


def test_item11_sigterm_is_forwarded_then_drained(home: Path, tmp_path: Path) -> None:
    """SIGTERM to `orca run`: the program gets it (no orphan), its trace is still shown."""
    prog = tmp_path / "sleeper.py"
    prog.write_text(SLEEPER)
    with subprocess.Popen(
        [sys.executable, "-m", "orca", "run", "--home", str(home), "--",
         sys.executable, str(prog)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as run:  # fmt: skip
        assert run.stdout is not None
        line = run.stdout.readline()
        assert line.startswith("pid "), line
        child = int(line.split()[1])
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM, err
    deadline = time.monotonic() + 10
    while process_alive(child, None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(child, None), "the program was orphaned"
    assert "turn" in out and "1 trace(s) recorded" in out
    assert "Traceback" not in err


def test_item11_failure_before_recording_is_named(home: Path, tmp_path: Path) -> None:
    """A program that dies at import says so, not "does it call orca.Recorder.open()?"."""
    prog = tmp_path / "broken.py"
    prog.write_text("import no_such_module_anywhere\n")
    done = subprocess.run(
        [sys.executable, "-m", "orca", "run", "--home", str(home), "--json", "--",
         sys.executable, str(prog)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["note"] == "the program exited with code 1 before recording anything"
    assert doc["traces"] == [] and doc["exit_code"] == 1


def test_item11_wait_timeout_is_named(home: Path, tmp_path: Path) -> None:
    """When a running collector does not finish in --wait, the note says so."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import fcntl, os, sys, time
            os.makedirs({str(home)!r}, exist_ok=True)
            fd = os.open({str(home / "collector.lock")!r}, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        prog = tmp_path / "one.py"
        prog.write_text("import orca\norca.Recorder.open().logger('x').span('t').end()\n")
        done = subprocess.run(
            [sys.executable, "-m", "orca", "run", "--home", str(home), "--wait", "300ms",
             "--json", "--", sys.executable, str(prog)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    doc = json.loads(done.stdout)
    assert "gave up" in doc["collector"] and "collector did not finish" in doc["note"]
    assert os.path.exists(home / "journal")
