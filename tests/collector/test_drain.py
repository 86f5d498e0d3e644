"""``orca.collector.drain``: a program's records into the store, in this process or by waiting."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from orca.collector import CollectorLock, drain, journal_sizes, lock_holder, progress
from orca.store import open_store

PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    import orca
    rec = orca.Recorder.open(sys.argv[1])
    turn = rec.logger("drained").span("turn")
    turn.child("step").end()
    if sys.argv[2] == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    turn.end()
    rec.close()
    """
)


def _record(home: Path, how: str) -> dict[str, int]:
    """Run a real program that records into ``home`` (exiting cleanly or SIGKILLed)."""
    started = time.time_ns()
    subprocess.run([sys.executable, "-c", PROGRAM, str(home), how], check=False, timeout=120)
    written = journal_sizes(home, started)
    assert written and all(size > 0 for size in written.values())
    return written


def test_no_collector_running_drains_in_this_process(home: Path) -> None:
    """With the lock free, drain ingests here: progress goes from behind to done, trace stored."""
    written = _record(home, "clean")
    before = progress(home, written)
    assert before.behind_bytes == sum(written.values())
    assert drain(home, written, timeout_s=30) is None
    assert progress(home, written).done
    assert lock_holder(home) is None  # the in-process collector let go of the lock
    with open_store(home) as store:
        assert [t.root_name for t in store.list_traces(limit=None)] == ["turn"]


def test_a_crash_is_attributed_by_the_in_process_drain(home: Path) -> None:
    """A SIGKILLed writer is settled (declared crashed) by the drain, not left waiting."""
    written = _record(home, "crash")
    assert progress(home, written).unsettled  # gone without an exit record
    assert drain(home, written, timeout_s=30) is None
    with open_store(home) as store:
        (summary,) = store.list_traces(limit=None)
    assert summary.status == "crashed"


def test_a_held_lock_is_waited_for_then_given_up_with_the_reason(home: Path) -> None:
    """Another collector holds the lock, ingests nothing: a bounded wait, then one clear reason."""
    written = _record(home, "clean")
    waited: list[int] = []
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from orca.collector import CollectorLock;"
            " lock = CollectorLock(Path(sys.argv[1])); print('held', flush=True); time.sleep(60)",
            str(home),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        problem = drain(home, written, timeout_s=0.2, on_wait=waited.append)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    assert waited == [holder.pid]
    assert problem is not None and f"pid {holder.pid}" in problem
    assert f"{sum(written.values())} bytes not ingested" in problem


def test_the_lock_freed_while_waiting_means_drain_here(home: Path) -> None:
    """A lock released by its holder mid-wait is taken over: the drain finishes here."""
    written = _record(home, "clean")
    lock = CollectorLock(home)
    calls: list[int] = []

    def on_wait(pid: int) -> None:
        calls.append(pid)
        lock.release()  # the running collector goes away right after we found it

    assert drain(home, written, timeout_s=30, on_wait=on_wait) is None
    assert calls and progress(home, written).done
