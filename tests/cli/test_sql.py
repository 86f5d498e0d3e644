"""``orca sql``: read-only SQL on the store, packed span attributes read through orca_attrs."""

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orca.cli import cli
from orca.store import SQLiteStore, items_from
from orca.store._attrs import TRAIN_AFTER

T0 = 1_750_000_000_000_000_000


def _spans(n: int) -> list[dict[str, Any]]:
    return [
        {
            "v": 1,
            "kind": "span-open",
            "ts": T0 + i,
            "trace": f"{i // 10 + 1:032x}",
            "span": f"{i + 1:016x}",
            "name": "step",
            "component": "agent",
            "attrs": {
                "gen_ai.request.model": ["gpt-4o", "claude"][i % 2],
                "gen_ai.conversation.id": f"conv-{i // 13}",
                "n": i,
            },
        }
        for i in range(n)
    ]


@pytest.fixture
def store_home(home: Path) -> Path:
    """A home whose store has packed span attributes (past the dictionary's training)."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_spans(TRAIN_AFTER), "a"))
        store.apply(items_from(_spans(TRAIN_AFTER + 20)[TRAIN_AFTER:], "b"))
        kinds = dict(store._conn.execute("SELECT typeof(attrs), count(*) FROM spans GROUP BY 1"))
        assert kinds == {"text": TRAIN_AFTER, "blob": 20}
    return home


def _sql(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["sql", "--home", str(home), *args])


def _digest(home: Path) -> str:
    return hashlib.sha256((home / "store.sqlite").read_bytes()).hexdigest()


def test_orca_attrs_reads_packed_and_text_rows_alike(store_home: Path) -> None:
    """json_extract over orca_attrs finds values in packed rows and JSON-text rows."""
    query = (
        "SELECT span_id, json_extract(orca_attrs(attrs), '$.n') AS n FROM spans"
        " WHERE json_extract(orca_attrs(attrs), '$.\"gen_ai.request.model\"') = 'claude'"
        " AND json_extract(orca_attrs(attrs), '$.n') IN (1, ?) ORDER BY n"
    ).replace("?", str(TRAIN_AFTER + 19))
    done = _sql(store_home, "--json", query)
    assert done.exit_code == 0, done.output
    doc = json.loads(done.output)
    assert doc["columns"] == ["span_id", "n"]
    assert doc["rows"] == [
        {"span_id": f"{2:016x}", "n": 1},  # ids (blobs) print as hex
        {"span_id": f"{TRAIN_AFTER + 20:016x}", "n": TRAIN_AFTER + 19},
    ]
    assert doc["truncated"] is False


def test_rows_print_as_a_table_and_the_limit_says_so(store_home: Path) -> None:
    """Plain output is a padded table with NULL spelled out; a cut is announced."""
    done = _sql(store_home, "--limit", "2", "SELECT id, parent_id, name FROM spans ORDER BY id")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "id parent_id name",
        " 1 NULL      step",
        " 2 NULL      step",
        "(first 2 rows; raise --limit for more)",
    ]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("DELETE FROM spans", "only reads"),
        ("UPDATE spans SET name = 'x'", "only reads"),
        ("CREATE TABLE x (a)", "only reads"),
        ("ATTACH 'elsewhere.sqlite' AS other", "only reads"),
        ("VACUUM INTO 'elsewhere.sqlite'", "only reads"),
        ("PRAGMA user_version = 1", "only reads"),
        ("SELEC 1", "syntax error"),
        ("SELECT nope FROM spans", "no such column"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("UPDATE sqlite_master SET name = 'x'", "may not be modified"),
        ("SELECT orca_attrs(trace_id) FROM spans", "orca_attrs takes spans.attrs"),
        ("   ", "give a query"),
    ],
)
def test_writes_and_bad_sql_are_one_line_and_exit_2(
    store_home: Path, query: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write, an ATTACH or SQL that fails: one line on stderr, exit 2, the file unchanged."""
    monkeypatch.chdir(tmp_path)  # where an ATTACH would create its file
    before = _digest(store_home)
    done = _sql(store_home, query)
    assert done.exit_code == 2
    assert "Traceback" not in done.output
    [line] = done.output.splitlines()
    assert line.startswith("orca: ") and says in line, line
    assert _digest(store_home) == before
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_reading_pragmas_work(store_home: Path) -> None:
    """PRAGMA table_info(spans) and a bare PRAGMA read the schema."""
    done = _sql(store_home, "--json", "PRAGMA table_info(spans)")
    assert done.exit_code == 0, done.output
    assert "attrs" in {r["name"] for r in json.loads(done.output)["rows"]}
    done = _sql(store_home, "PRAGMA user_version")
    assert done.exit_code == 0 and done.output.split()[-1].isdigit()


def test_a_missing_store_or_a_postgres_url_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No store yet, or a PostgreSQL store: one line saying what to do, exit 2."""
    done = _sql(home, "SELECT 1")
    assert done.exit_code == 2 and "orca collect --once" in done.output
    monkeypatch.setenv("ORCA_STORE", "postgresql://orca@localhost/orca")
    done = _sql(home, "SELECT 1")
    assert done.exit_code == 2 and "psql" in done.output


def test_ctrl_c_stops_a_runaway_query_with_one_line(store_home: Path) -> None:
    """SIGINT during an endless query (a real process): one line, no traceback, no hang."""
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "orca", "sql", "--home", str(store_home), endless],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # (started or not, SIGINT must end it cleanly)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (2, 130), (proc.returncode, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    assert out == ""
