"""Starting a collector from a traced process: ``Recorder.open(home, collector="auto")``.

A plain script should get a queryable store without running another command,
so the recorder can start ``python -m orca collect --home H`` detached (its own
session: it outlives the script and never receives the script's Ctrl-C). It
does so only when no collector holds the home's lock (asked through the leaf
``orca._pidlock``, which names the lock file). This module sits on the capture
path: standard library only, and ``subprocess`` is imported only when a
collector is actually started.
"""

import os
import sys
import warnings
from pathlib import Path
from typing import Any, Final

from orca._pidlock import COLLECTOR_LOCK, holder

LOG_FILE: Final = "collector.log"
# An auto-started collector leaves once no writer has been alive for this long.
IDLE_EXIT_S: Final = 300

_children: list[Any] = []  # keep Popen objects alive: no "still running" warning at GC


def collector_running(home: Path) -> bool:
    """True when some process holds ``home``'s collector lock."""
    return holder(home / COLLECTOR_LOCK) is not None


def start_collector(home: Path, *, idle_exit_s: float = IDLE_EXIT_S) -> int | None:
    """Start a detached collector for ``home`` unless one runs; its pid, or None.

    Two processes racing here may both start one; the loser finds the lock
    taken and exits at once with a message in ``<home>/collector.log``.
    """
    if collector_running(home):
        return None
    import subprocess

    src = str(Path(__file__).resolve().parents[2])  # so `-m orca` works from a checkout too
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orca",
                "collect",
                "--home",
                str(home),
                "--idle-exit",
                str(idle_exit_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    _children.append(proc)
    return int(proc.pid)


def ensure_collector(home: Path) -> int | None:
    """:func:`start_collector`, but never raising into the traced process (warns once)."""
    try:
        return start_collector(home)
    except Exception as exc:
        try:
            warnings.warn(
                f"orca: could not start a collector for {home}: {exc}; "
                f"run `orca collect --home {home}` yourself",
                RuntimeWarning,
                stacklevel=3,
            )
        except Exception:
            pass
        return None
