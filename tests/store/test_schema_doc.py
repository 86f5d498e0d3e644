"""docs/store.md is true: its queries run in the real sqlite3 shell, every table is described."""

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from orca.capture import Recorder
from orca.collector import Collector
from orca.store import SCHEMA_VERSION

DOC = Path(__file__).resolve().parents[2] / "docs" / "store.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def _build(home: Path) -> Path:
    with Recorder.open(home, heartbeat_s=None) as rec:
        turn = rec.logger("svc").span("turn", attrs={"gen_ai.conversation.id": "c"})
        turn.log.info("hello")
        step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body="prompt " * 100)
        step.end(attrs={"gen_ai.usage.input_tokens": 5, "orca.cost.usd": 0.1}, body="answer")
        turn.child("tool-call", attrs={"gen_ai.tool.name": "t"}).end()
        turn.end()
    with Collector(home) as c:
        c.drain()
        c.store.catch_up_search()
    return home / "store.sqlite"


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="sqlite3 shell not installed")
def test_documented_queries_run_in_the_sqlite3_shell(home: Path) -> None:
    """Every SQL example in the schema doc runs in the sqlite3 shell against a real store."""
    db = _build(home)
    blocks = SQL_BLOCK.findall(DOC.read_text())
    assert len(blocks) >= 8
    for sql in blocks:
        done = subprocess.run(
            ["sqlite3", "-bail", str(db)], input=sql, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and done.stderr == "", (sql, done.stderr)
    version = subprocess.run(
        ["sqlite3", str(db), "PRAGMA user_version;"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == str(SCHEMA_VERSION)
    models = subprocess.run(
        [
            "sqlite3",
            str(db),
            "SELECT model, sum(input_tokens) FROM spans WHERE model IS NOT NULL GROUP BY model;",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert models.stdout.strip() == "m|5"


def test_every_table_and_column_is_documented(home: Path) -> None:
    """Every table and column of a real store is named in the schema doc."""
    db = _build(home)
    doc = DOC.read_text()
    conn = sqlite3.connect(db)
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not re.match(r"fts_\w+_(data|idx|content|docsize|config)$", r[0])
    ]
    for table in tables:
        assert f"`{table}`" in doc, table
        for col in (r[1] for r in conn.execute(f"PRAGMA table_info({table})")):
            if table.startswith("fts_") or col == "id":
                continue
            assert f"`{col}`" in doc, f"{table}.{col}"
    conn.close()
