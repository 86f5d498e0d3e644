"""A writer killed mid-put (SIGKILL, a real child process) leaves no visible partial blob."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orca.blobs import BlobStore

CHILD = r"""
import os, sys, time
from orca.blobs import BlobStore

class Slow:
    '''A stream that never ends: 256 KiB pieces, then a pause, forever.'''
    def __init__(self):
        self.n = 0
    def read(self, size=-1):
        self.n += 1
        if self.n > 4:
            time.sleep(0.05)
        return os.urandom(262144)

store = BlobStore.open(sys.argv[1])
store.put(Slow())
"""


@pytest.mark.slow
def test_sigkill_mid_put_leaves_nothing_visible(home: Path) -> None:
    """Kill -9 while a put is spooling: no blob is listed, and gc clears the dead temp file."""
    BlobStore.open(home)  # keys exist before the child starts
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(home)])
    tmp = home / "blobs" / "tmp"
    try:
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size > 0 for p in tmp.iterdir()):
            assert child.poll() is None, "the writer exited before it was killed"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.02)
        time.sleep(0.1)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    store = BlobStore.open(home)
    assert list(store.ls()) == []
    assert [p.name for p in tmp.iterdir()] != []  # the partial spool is there, but invisible
    result = store.gc([], grace_s=0)
    assert (result.removed, result.temps_removed) == (0, 1)
    assert list(tmp.iterdir()) == []
