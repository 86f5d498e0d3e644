"""Helpers for collector tests: segments written by hand, dead pids, ids."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orca.journal import SegmentName, process_start_ticks
from orca.records import dumps

Write = Callable[..., Path]


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def proc_start(pid: int, pstart: int | None = None, ts: int = 1, seq: int = 0) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "v": 1,
        "kind": "proc",
        "ts": ts,
        "component": "orca.journal",
        "event": "start" if seq == 0 else "segment",
        "pid": pid,
        "seq": seq,
    }
    if pstart is not None:
        rec["pstart"] = pstart
    return rec


def span_open(
    trace: str, span: str, name: str, ts: int, parent: str | None = None, **extra: Any
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "v": 1,
        "kind": "span-open",
        "ts": ts,
        "component": "app",
        "trace": trace,
        "span": span,
        "name": name,
    }
    if parent:
        rec["parent"] = parent
    rec.update(extra)
    return rec


def span_close(trace: str, span: str, ts: int, status: str = "ok") -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "span-close",
        "ts": ts,
        "component": "app",
        "trace": trace,
        "span": span,
        "status": status,
    }


def log(msg: str, ts: int) -> dict[str, Any]:
    return {"v": 1, "kind": "log", "ts": ts, "component": "app", "level": "info", "msg": msg}


@pytest.fixture
def write_segment(home: Path) -> Write:
    """Write a segment for (pid, start_ns, seq) from records and raw byte lines."""

    def write(pid: int, parts: list[Any], start_ns: int = 1000, seq: int = 0) -> Path:
        journal = home / "journal"
        journal.mkdir(parents=True, exist_ok=True)
        path = journal / SegmentName(pid, start_ns, seq).filename
        with path.open("ab") as f:
            for part in parts:
                f.write(part if isinstance(part, bytes) else dumps(part))
        return path

    return write


def own_pstart() -> int:
    pstart = process_start_ticks(os.getpid())
    assert pstart is not None
    return pstart


T1 = "0190000000000000000000000000000a"
T2 = "0190000000000000000000000000000b"
S = [f"{i:016x}" for i in range(1, 20)]


class Helpers:
    """Record builders and ids for tests (a fixture: importlib mode has no conftest imports)."""

    proc_start = staticmethod(proc_start)
    span_open = staticmethod(span_open)
    span_close = staticmethod(span_close)
    log = staticmethod(log)
    own_pstart = staticmethod(own_pstart)
    T1 = T1
    T2 = T2
    S = S


@pytest.fixture
def h() -> type[Helpers]:
    return Helpers
