"""PostgreSQL faults: a connection lost in the middle of a batch."""

from pathlib import Path
from typing import Any

import psycopg
import pytest

from orca.store import _pg_bodies, items_from, open_store
from orca.testing import capture_records


def _records() -> list[dict[str, Any]]:
    with capture_records() as (rec, records):
        log = rec.logger("svc")
        for i in range(5):
            turn = log.span("turn")
            turn.log.info(f"turn {i}")
            turn.child("step", body=f"PROMPT {i}").end(body=f"ANSWER {i}")
            turn.end()
    return [dict(r) for r in records]


def test_connection_killed_mid_batch_is_retried(
    home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server kills the session while a batch is half written: nothing of it stays, the
    retry on a fresh connection applies it once."""
    store = open_store(pg_url)
    records = _records()
    real = _pg_bodies.write
    killed: list[int] = []

    def kill_then_write(cur: psycopg.Cursor[Any], pending: Any, blobs: Any) -> int:
        if not killed:  # first attempt: spans are written, bodies not yet
            pid = cur.connection.info.backend_pid
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)
        return real(cur, pending, blobs)

    monkeypatch.setattr(_pg_bodies, "write", kill_then_write)
    with store:
        result = store.apply(items_from(records, "seg"))
        assert killed and result.applied == len(records)
        assert store.apply(items_from(records, "seg")).applied == 0
        [summary] = [t for t in store.list_traces(limit=None)][:1]
        assert summary.span_count == 2
        assert store.totals().spans == 10 and store.totals().logs == 5
        assert store.totals().bodies == 10
