"""A live `orca up` in a subprocess for the tests that need a real server (and its URL)."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

URL = re.compile(r"at (http://\S+) ")


class Up:
    """A running `orca up` and the URL it printed."""

    def __init__(self, proc: subprocess.Popen[str], url: str, first_lines: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.first_lines = first_lines

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Send ``sig``, wait for the exit; (exit code, everything it printed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=90)
        return self.proc.returncode, "\n".join(self.first_lines) + "\n" + (out or "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=60)  # reaps it and closes its stdout pipe


def start_up(home: Path, *extra: str, port: int = 0) -> Up:
    """Start `orca up` on ``home`` (any free port) and wait (bounded) until /healthz answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    m = URL.search(lines[0])
    if m is None:
        proc.kill()
        raise AssertionError(f"orca up printed no URL: {lines[0]!r} {proc.communicate()[0]}")
    lines.append(proc.stdout.readline())
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(m.group(1) + "/healthz", timeout=5).status_code == 200:
                return Up(proc, m.group(1), lines)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"orca up did not answer /healthz: {proc.communicate()[0]}")
        time.sleep(0.05)
