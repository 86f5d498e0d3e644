"""A real Python process held at a known point, for tests that SIGKILL or out-wait it.

Lock, crash and takeover tests all need the same thing: start ``python -c
CODE``, wait until it says it reached the point under test (one line on
stdout), act on it, and make sure it is gone afterwards — even when the test
fails — without leaking its pipes (pytest turns unclosed files into errors).
"""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def python_child(code: str, *args: str, ready: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``python -c code *args``; yield it once it printed ``ready``; SIGKILL it at the end.

    ``code`` should print ``ready`` (flushed) and then block, e.g. on
    ``sys.stdin.read()``: the process stays exactly where the test wants it.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != ready:
            raise AssertionError(f"child printed {line!r}, not {ready!r} (exit {proc.poll()})")
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
