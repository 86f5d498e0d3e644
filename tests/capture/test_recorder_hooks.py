"""Closing a recorder takes its sink out of the process's fork and exit hooks."""

import atexit
import os
from pathlib import Path

from orca.capture import IdGenerator, Recorder
from orca.capture._ids import _UNSEEDED
from orca.journal._sink import HOOKS


def test_closed_recorders_leave_no_exit_hooks(home: Path) -> None:
    """Twenty recorders opened and closed: at most one exit hook is added (it used to be 20)."""
    before = atexit._ncallbacks()  # CPython's count of exit functions ever registered
    sinks = []
    for _ in range(20):
        rec = Recorder.open(home, heartbeat_s=None)
        sinks.append(rec.sink)
        assert rec.sink in HOOKS.exiting and rec.sink in HOOKS.forking
        rec.close()
    assert atexit._ncallbacks() <= before + 1
    assert not any(s in HOOKS.exiting or s in HOOKS.forking for s in sinks)


def test_a_live_recorder_is_still_closed_at_exit_and_split_at_fork(home: Path) -> None:
    """A recorder left open keeps its exit hook, and a forked child writes its own segment."""
    closed = Recorder.open(home, heartbeat_s=None)
    closed.close()
    live = Recorder.open(home, heartbeat_s=None)
    try:
        assert live.sink in HOOKS.exiting and closed.sink not in HOOKS.forking
        segments = set((home / "journal").iterdir())
        pid = os.fork()
        if pid == 0:  # the child: record one span into its own segment, then leave at once
            try:
                live.logger("child").span("forked").end()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        new = set((home / "journal").iterdir()) - segments
        assert len(new) == 1 and b'"forked"' in next(iter(new)).read_bytes()
    finally:
        live.close()


def test_id_generators_reseed_in_a_forked_child() -> None:
    """One at-fork hook re-seeds every unseeded generator: parent and child never repeat."""
    gen = IdGenerator()
    assert gen in _UNSEEDED and IdGenerator(seed=1) not in _UNSEEDED
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, gen.trace_id().encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[12:] != gen.trace_id()[12:]  # the random part differs
