"""Many collectors, one PostgreSQL: real writer processes, real `orca collect` processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from orca.journal import JournalSink
from orca.store import CRASH_SPAN_NAME, STORE_ENV, TraceStore, open_store

ORCA = [sys.executable, "-m", "orca"]

# A writer that finishes N turns, then opens one more and is SIGKILLed inside it.
WRITER = """
import sys, time, orca
rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None)
log = rec.logger("agent")
for i in range(int(sys.argv[2])):
    turn = log.span("turn", attrs={"gen_ai.conversation.id": sys.argv[1]})
    step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body=f"prompt {i} {sys.argv[1]}")
    step.log.info(f"turn {i}")
    step.end(attrs={"gen_ai.usage.input_tokens": 3})
    turn.end()
turn = log.span("turn")
tool = turn.child("tool-call", attrs={"gen_ai.tool.name": "lookup"})
print(turn.trace_id, tool.span_id, flush=True)
time.sleep(120)
"""


def _crashed_writer(home: Path, turns: int) -> tuple[str, str, int]:
    """Run a writer to its last, open turn and SIGKILL it; (trace id, last span id, pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), str(turns)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    trace_id, tool_id = proc.stdout.readline().split()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return trace_id, tool_id, proc.pid


def _env(url: str) -> dict[str, str]:
    return {**os.environ, STORE_ENV: url}


@pytest.mark.slow
def test_three_hosts_one_database(tmp_path: Path, pg_url: str) -> None:
    """Three homes' collectors at once: exact counts, no duplicate, each crash attributed right."""
    homes = [tmp_path / f"host{i}" for i in range(3)]
    turns = 40
    crashes = {home: _crashed_writer(home, turns) for home in homes}
    procs = [
        subprocess.Popen(
            [*ORCA, "collect", "--once", "--home", str(home), "--batch", "50"],
            env=_env(pg_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for home in homes
    ]
    for p in procs:
        _out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    with psycopg.connect(pg_url) as conn:
        spans, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans"
        ).fetchone()  # type: ignore[misc]
        # per home: 40 turns x 2 spans + the open turn, its tool call and one crash span
        assert spans == distinct == 3 * (turns * 2 + 3)
        assert conn.execute("SELECT count(*) FROM logs").fetchone() == (3 * turns,)
        assert conn.execute("SELECT count(DISTINCT origin) FROM sources").fetchone() == (3,)
    for home, (trace_id, tool_id, pid) in crashes.items():
        with _store(pg_url, home) as store:
            trace = store.get_trace(trace_id)
            assert trace is not None and trace.summary.status == "crashed"
            [crash] = [s for s in trace.spans if s.name == CRASH_SPAN_NAME]
            assert crash.attrs["orca.crash.pid"] == pid
            assert crash.attrs["orca.crash.after_span"] == tool_id
            # this home's writers only: one crashed, none of another home's
            procs_seen = store.processes()
            assert [p.pid for p in procs_seen if p.crashed_ns] == [pid]


def _store(url: str, home: Path) -> TraceStore:
    """``home``'s view of the shared database (its origin's sources and writers)."""
    before = os.environ.get(STORE_ENV)
    os.environ[STORE_ENV] = url
    try:
        return open_store(home)
    finally:
        if before is None:
            del os.environ[STORE_ENV]
        else:
            os.environ[STORE_ENV] = before


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        try:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[arg-type]
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def _copying(conn: psycopg.Connection[Any]) -> bool:
    """Whether another session is inside a batch (its COPY or the insert that follows)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
        " AND (query LIKE 'COPY %%' OR query LIKE 'INSERT INTO logs%%')"
        " AND datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchone()
    return bool(row and row[0])


def _other_sessions(conn: psycopg.Connection[Any]) -> int:
    """How many other client sessions are connected to this test's database."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_sigkill_mid_copy_then_restart(home: Path, pg_url: str) -> None:
    """A collector killed while a COPY runs leaves whole batches only; a restart converges."""
    sink = JournalSink(home / "journal", heartbeat_s=None, on_exit=False)
    n = 40_000
    for i in range(n):
        sink.emit(
            {"v": 1, "kind": "log", "ts": i + 1, "component": "w", "level": "info", "msg": f"m{i}"}
        )
    sink.close()
    proc = subprocess.Popen(
        [*ORCA, "collect", "--home", str(home), "--batch", "2000"],
        env=_env(pg_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(pg_url, autocommit=True) as watch:  # one session: polls fast
            while not _copying(watch) and time.monotonic() < deadline:
                time.sleep(0.001)
        assert time.monotonic() < deadline, "never saw the collector's COPY"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # The killed session's backend ends once the server sees the closed socket (rolling
        # back, or finishing a COMMIT it had already received): read only after that.
        deadline = time.monotonic() + 60
        while _other_sessions(conn) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _other_sessions(conn), "the killed collector's session never ended"
        # One statement, one snapshot: the offset and the rows it vouches for agree.
        [segment] = (home / "journal").glob("*.ndjson")
        row = conn.execute(
            'SELECT (SELECT "offset" FROM sources WHERE name = %s), (SELECT count(*) FROM logs)',
            (segment.name,),
        ).fetchone()
    assert row is not None
    committed = row[0] or 0  # killed in its first batch: no source row yet
    below = segment.read_bytes()[:committed].count(b'"kind":"log"')
    assert row[1] == below  # rows exactly as the committed offset says: no partial batch
    done = subprocess.run(
        [*ORCA, "collect", "--once", "--home", str(home)],
        env=_env(pg_url),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT msg) FROM logs").fetchone() == (n, n)
