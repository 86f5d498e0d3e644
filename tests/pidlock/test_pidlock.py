"""The home lock (orca._pidlock): real processes hold it, others probe it, SIGKILL frees it."""

import fcntl
import os
import signal
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca._pidlock import COLLECTOR_LOCK, LockHeld, PidLock, holder, read_note
from orca.testing import python_child

HOLD = (
    "import sys, pathlib\n"
    "from orca._pidlock import PidLock\n"
    "lock = PidLock(pathlib.Path(sys.argv[1]), note_bytes=int(sys.argv[2]))\n"
    "lock.note(sys.argv[3] or None)\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)
PROBE = (
    "import sys, pathlib\n"
    "from orca._pidlock import holder\n"
    "print(holder(pathlib.Path(sys.argv[1])))\n"
)


def held_by_child(
    path: Path, note_bytes: int = 0, note: str = ""
) -> AbstractContextManager[subprocess.Popen[str]]:
    """A separate process holding the lock at ``path`` until the block ends (then SIGKILLed)."""
    return python_child(HOLD, str(path), str(note_bytes), note, ready="held")


def probe_from_another_process(path: Path) -> str:
    """What ``holder(path)`` says when asked by a third process."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_held_lock_names_its_holder_to_every_other_process(tmp_path: Path) -> None:
    """Another process holds it: this one and a third one both read the holder's pid."""
    path = tmp_path / COLLECTOR_LOCK
    assert holder(path) is None  # no file yet: free
    with held_by_child(path) as child:
        assert holder(path) == child.pid
        assert probe_from_another_process(path) == str(child.pid)
        with pytest.raises(LockHeld) as info:
            PidLock(path)
        assert info.value.pid == child.pid and info.value.path == path
        assert str(child.pid) in str(info.value)


def test_sigkill_of_the_holder_frees_the_lock(tmp_path: Path) -> None:
    """The kernel drops the flock of a SIGKILLed holder: no stale lock, the next one takes it."""
    path = tmp_path / "server.lock"
    with held_by_child(path) as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        assert holder(path) is None  # the dead pid is still in the file, but nobody holds it
        assert probe_from_another_process(path) == "None"
        with PidLock(path) as lock:
            assert lock.held and holder(path) == os.getpid()
        assert not lock.held and holder(path) is None


def test_release_frees_the_lock_and_clears_the_pid(tmp_path: Path) -> None:
    """After release() the lock is free and names nobody; releasing twice is harmless."""
    path = tmp_path / "sub" / "lock"  # parent directories are created
    lock = PidLock(path)
    assert path.read_text() == f"{os.getpid()}\n"
    lock.release()
    lock.release()
    assert holder(path) is None and path.read_text() == ""
    with held_by_child(path) as child:
        assert holder(path) == child.pid  # a released lock is free for another process


def test_a_probe_mid_flight_is_not_a_holder(tmp_path: Path) -> None:
    """Probes take a shared lock: one caught mid-probe is not reported as a holder by another."""
    path = tmp_path / "lock"
    path.touch()
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a probe frozen mid-probe
        assert holder(path) is None
        assert probe_from_another_process(path) == "None"
    finally:
        os.close(fd)
    with PidLock(path):  # and the probe's brief lock is gone: the writer takes it
        assert holder(path) == os.getpid()


def test_a_note_is_read_back_while_held(tmp_path: Path) -> None:
    """A holder's note (a status for `orca status`) is read from another process's view."""
    path = tmp_path / COLLECTOR_LOCK
    with held_by_child(path, note_bytes=512, note="paused: disk full") as child:
        assert holder(path) == child.pid
        assert read_note(path) == "paused: disk full"
        assert path.stat().st_size == 512  # the room is taken up front: a note fits a full disk
    assert read_note(tmp_path / "missing") is None


@given(text=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=600))
def test_note_round_trips_within_its_room(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    """Any printable note reads back stripped and cut to the room; the file never grows."""
    path = tmp_path_factory.mktemp("note") / "lock"
    with PidLock(path, note_bytes=512) as lock:
        lock.note(text)
        assert read_note(path) == (text[: 512 - 64].strip() or None)
        assert path.stat().st_size == 512
        assert holder(path) == os.getpid()
        lock.note(None)
        assert read_note(path) is None
