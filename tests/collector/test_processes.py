"""The collector and writers as real processes: SIGKILL, SIGTERM, the lock, auto-start."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orca.capture import Recorder, _supervise
from orca.collector import LOCK_FILE, lock_holder
from orca.journal import JournalSink
from orca.store import CRASH_SPAN_NAME, SQLiteStore

ORCA = [sys.executable, "-m", "orca"]


def wait_for(what: Callable[[], object], timeout: float = 60.0) -> object:
    """Poll until ``what()`` is truthy (a bound on waiting, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def count(home: Path, table: str) -> int:
    path = home / "store.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.mark.slow
def test_sigkill_collector_mid_batch_then_restart(home: Path) -> None:
    """Every record is in the store exactly once after a SIGKILL and a restart."""
    sink = JournalSink(home / "journal", heartbeat_s=None, on_exit=False)
    n = 60_000
    for i in range(n):
        sink.emit(
            {"v": 1, "kind": "log", "ts": i + 1, "component": "w", "level": "info", "msg": f"m{i}"}
        )
    sink.close()
    proc = subprocess.Popen([*ORCA, "collect", "--home", str(home), "--batch", "500"])
    try:
        wait_for(lambda: count(home, "logs") > 0)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    partial = count(home, "logs")
    assert 0 < partial < n  # killed part-way through
    done = subprocess.run(
        [*ORCA, "collect", "--once", "--home", str(home)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "ingested" in done.stdout
    with sqlite3.connect(home / "store.sqlite") as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT msg) FROM logs").fetchone() == (n, n)


WRITER = """
import sys, time, orca
rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None)
log = rec.logger("agent")
turn = log.span("turn")
step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body="prompt")
step.end(attrs={"gen_ai.usage.input_tokens": 3})
tool = turn.child("tool-call", attrs={"gen_ai.tool.name": "lookup"})
print(turn.trace_id, turn.span_id, tool.span_id, flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_sigkill_writer_mid_turn(home: Path) -> None:
    """After `orca collect --once`: its spans, the unfinished ones marked, one crash span."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    trace_id, turn_id, tool_id = proc.stdout.readline().split()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    subprocess.run(
        [*ORCA, "collect", "--once", "--home", str(home)], check=True, capture_output=True
    )
    with SQLiteStore.open(home) as store:
        rows = store.get_trace(trace_id)
        assert rows is not None
        by_name = {s.name: s for s in rows.spans}
        assert set(by_name) == {"turn", "step", "tool-call", CRASH_SPAN_NAME}
        assert by_name["step"].status == "ok"
        assert (
            by_name["turn"].status == "unfinished" and by_name["tool-call"].status == "unfinished"
        )
        crash = by_name[CRASH_SPAN_NAME]
        assert crash.parent_id == turn_id and crash.status == "error"
        assert crash.attrs["orca.crash.after_span"] == tool_id
        assert crash.attrs["exception.message"] == (
            f"process {proc.pid} exited unexpectedly after span tool-call ({tool_id})"
        )
        assert rows.summary.status == "crashed"
        assert store.get_body(by_name["step"].request_body or "") == b"prompt"


@pytest.mark.slow
def test_sigterm_drains_and_the_lock_refuses_a_second(home: Path) -> None:
    """SIGTERM exits 0 and frees the lock; a second collector exits with a clear line."""
    proc = subprocess.Popen([*ORCA, "collect", "--home", str(home), "--interval-ms", "20"])
    try:
        wait_for(lambda: lock_holder(home) == proc.pid)
        second = subprocess.run(
            [*ORCA, "collect", "--once", "--home", str(home)], capture_output=True, text=True
        )
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"orca: a collector (pid {proc.pid}) already holds {home / LOCK_FILE}; "
            "stop it first or use `orca status` to see it"
        )
        with Recorder.open(home, heartbeat_s=None) as rec:
            rec.logger("a").span("turn").end()
        wait_for(lambda: count(home, "spans") == 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert lock_holder(home) is None


@pytest.mark.slow
def test_recorder_starts_a_collector(home: Path) -> None:
    """collector="auto" gives a plain script a queryable store; None never starts one."""
    with Recorder.open(home, heartbeat_s=None):
        pass
    assert lock_holder(home) is None
    rec = Recorder.open(home, heartbeat_s=None, collector="auto")
    child = _supervise._children[-1]
    try:
        pid = wait_for(lambda: lock_holder(home))
        assert pid == child.pid
        assert _supervise.start_collector(home) is None  # one is running: none started
        rec.logger("script").span("turn").end()
        rec.close()
        wait_for(lambda: count(home, "spans") == 1)
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
        _supervise._children.remove(child)
    assert (home / "collector.log").read_text() == ""  # nothing went wrong


def test_capture_path_stays_light(home: Path) -> None:
    """Recorder.open(collector="auto") imports neither the store nor the collector."""
    code = (
        "import sys, orca\n"
        f"orca.Recorder.open({str(home)!r}, heartbeat_s=None, collector='auto').close()\n"
        "from orca.capture import _supervise\n"
        "heavy = [m for m in sys.modules if m.startswith(('orca.store', 'orca.collector'))"
        " or m in ('sqlite3', 'zstandard', 'pydantic', 'httpx')]\n"
        "print(_supervise._children[0].pid, heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split(maxsplit=1)
    pid = int(out[0])
    try:
        assert out[1].strip() == "[]"
    finally:
        wait_for(lambda: lock_holder(home) or not _alive(pid))
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"
