"""``orca run``: a real program in a real subprocess, drained by the real collector."""

import subprocess
import sys
import textwrap
from pathlib import Path

PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    import orca
    rec = orca.Recorder.open()
    log = rec.logger("runner")
    turn = log.span("turn", attrs={"gen_ai.conversation.id": "c1"})
    turn.child("step", attrs={"gen_ai.request.model": "m"}).end()
    if sys.argv[1] == "crash":
        turn.child("tool-call", attrs={"gen_ai.tool.name": "shell"})
        os.kill(os.getpid(), signal.SIGKILL)
    turn.end()
    rec.close()
    sys.exit(int(sys.argv[1]))
    """
)


def _run(home: Path, tmp_path: Path, arg: str) -> subprocess.CompletedProcess[str]:
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orca",
            "run",
            "--home",
            str(home),
            "--",
            sys.executable,
            str(prog),
            arg,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_run_prints_skeleton_and_returns_exit_code(home: Path, tmp_path: Path) -> None:
    """The program's exit code comes back; its trace's skeleton is printed."""
    proc = _run(home, tmp_path, "3")
    assert proc.returncode == 3, proc.stderr
    assert "turn conv=c1" in proc.stdout and "step m" in proc.stdout
    assert "exited with code 3; 1 trace(s) recorded" in proc.stdout


def test_run_crashed_program_gets_crash_span(home: Path, tmp_path: Path) -> None:
    """A SIGKILLed program still gets its skeleton, ending in the crash span."""
    proc = _run(home, tmp_path, "crash")
    assert proc.returncode == 128 + 9
    assert "tool shell ⚠ unfinished" in proc.stdout
    assert "✖ process" in proc.stdout and "exited unexpectedly after span tool-call" in proc.stdout
    check = subprocess.run(
        [sys.executable, "-m", "orca", "check", "last", "--home", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1 and "✖  crashed" in check.stdout


def test_run_unknown_program_is_one_line(home: Path) -> None:
    """`orca run` of a program that does not exist exits 127 with one line, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "orca", "run", "--home", str(home), "--", "no-such-program-xyz"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 127
    assert proc.stderr.strip().startswith("orca: cannot run 'no-such-program-xyz'")
    assert "Traceback" not in proc.stderr
