"""docs/store.md is true: its queries run in the sqlite3 shell and `orca sql`, every table is
described."""

import json
import re
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from orca.capture import Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.store import SCHEMA_VERSION, SQLiteStore, items_from
from orca.store._attrs import TRAIN_AFTER

DOC = Path(__file__).resolve().parents[2] / "docs" / "store.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


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


def _orca_sql_examples() -> list[list[str]]:
    lines = [line for block in SH_BLOCK.findall(DOC.read_text()) for line in block.splitlines()]
    return [shlex.split(line)[2:] for line in lines if line.startswith("orca sql ")]


def test_documented_orca_sql_examples_run(home: Path) -> None:
    """Every `orca sql` example runs on a store whose newer span attributes are packed."""
    _build(home)
    tools = [
        {
            "v": 1,
            "kind": "span-open",
            "ts": 10**18 + i,
            "trace": f"{i // 10 + 1:032x}",
            "span": f"{i + 1:016x}",
            "name": "tool-call",
            "component": "svc",
            "attrs": {"gen_ai.tool.name": f"tool-{i % 3}", "gen_ai.conversation.id": "c"},
        }
        for i in range(TRAIN_AFTER + 5)
    ]
    with SQLiteStore.open(home) as store:
        store.apply(items_from(tools[:TRAIN_AFTER], "a"))
        store.apply(items_from(tools[TRAIN_AFTER:], "b"))
        packed = store._conn.execute("SELECT count(*) FROM spans WHERE typeof(attrs) = 'blob'")
        assert packed.fetchone()[0] == 5
    examples = _orca_sql_examples()
    assert len(examples) >= 4
    outputs = []
    for args in examples:
        done = CliRunner().invoke(cli, ["sql", "--home", str(home), *args])
        assert done.exit_code == 0, (args, done.output)
        outputs.append(done.output)
    # the attribute-by-name example reads the tool of packed rows and of JSON-text rows
    by_name = next(o for a, o in zip(examples, outputs, strict=True) if "tool.name" in a[-1])
    assert {"t", "tool-0", "tool-1", "tool-2"} <= set(by_name.split())
    keys = next(o for a, o in zip(examples, outputs, strict=True) if "--json" in a)
    counts = {r["key"]: r["n"] for r in json.loads(keys)["rows"]}
    assert counts["gen_ai.tool.name"] == TRAIN_AFTER + 5 + 1
