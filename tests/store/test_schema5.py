"""Schema 5: a store written by schema 4's code migrates in place; trained dictionaries."""

import random
import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from orca.store import RetentionPolicy, SQLiteStore, items_from
from orca.store._batch import Quarantine
from orca.store._bodies import load
from orca.store._dicts import TRAIN_AFTER
from orca.store._schema import SCHEMA_VERSION

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("written_by", ["store_v4", "store_v5"])
def test_an_older_store_migrates_and_reads_the_same(
    home: Path, written_by: str, reader_view: Callable[..., dict[str, Any]]
) -> None:
    """A fixture written by schema 4's (5's) code opens as today's with the same traces, hits."""
    shutil.copyfile(GOLDEN / f"{written_by}.sqlite", home / "store.sqlite")
    want = orjson.loads((GOLDEN / "store_v4.json").read_bytes())
    with SQLiteStore.open(home) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        got = orjson.loads(orjson.dumps(reader_view(store, list(want["search"]))))
        assert got == want
        # the migrated table still de-duplicates: re-sending a known body adds a reference
        sha = next(iter(want["bodies"]))
        before = store.totals().bodies
        trace = want["traces"][0]["summary"]["trace_id"]
        rec = {
            "v": 1,
            "kind": "span-open",
            "ts": 1,
            "trace": trace,
            "span": "ab" * 8,
            "name": "again",
            "component": "agent",
            "body": want["bodies"][sha],
        }
        store.apply(items_from([rec], "later"))
        assert store.totals().bodies == before
        # and its deletes still reach the search index (the triggers were made again)
        [pinned] = [t["summary"]["trace_id"] for t in want["traces"] if t["summary"]["pinned"]]
        assert {h.trace_id for h in store.search("quokka")} - {pinned}
        result = store.prune(RetentionPolicy(timedelta(0), None), now_ns=2**62)
        assert result.traces == len(want["traces"]) - 1 and result.bodies_collected > 0
        assert {h.trace_id for h in store.search("quokka")} == {pinned}


def _bodies(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocab = ["".join(rng.choices("abcdefghijklmnop", k=rng.randint(2, 9))) for _ in range(3000)]
    out = []
    for i in range(n):
        trace = f"{i:032x}"
        text = " ".join(rng.choices(vocab, k=rng.randint(60, 120)))
        out.append(
            {
                "v": 1,
                "kind": "span-open",
                "ts": i + 1,
                "trace": trace,
                "span": f"{i:016x}",
                "name": "step",
                "component": "agent",
                "body": text,
            }
        )
    return out


def _dict_ids(store: SQLiteStore) -> list[int | None]:
    return [r[0] for r in store._conn.execute("SELECT dict FROM bodies ORDER BY id")]


def test_a_dictionary_is_trained_from_the_stores_first_bodies(home: Path) -> None:
    """After TRAIN_AFTER zstd bodies new ones use the trained dictionary, smaller, read back."""
    records = _bodies(TRAIN_AFTER + 300, seed=1)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records[:TRAIN_AFTER], "a"))
        assert store._conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0] == 0
        store.apply(items_from(records[TRAIN_AFTER:], "b"))
        ids = _dict_ids(store)
        assert ids[:TRAIN_AFTER] == [None] * TRAIN_AFTER
        assert set(ids[TRAIN_AFTER:]) == {1}
        sizes = store._conn.execute(
            "SELECT avg(stored * 1.0 / size) FROM bodies GROUP BY dict IS NULL ORDER BY 1"
        ).fetchall()
        assert sizes[0][0] < 0.9 * sizes[1][0]  # with the dictionary: clearly smaller
        for rec in records:
            assert load(store._conn, "sha256", _sha(rec["body"])) == rec["body"].encode()


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_a_retrained_dictionary_keeps_older_bodies_readable(home: Path) -> None:
    """Bodies name their dictionary: a second one does not change how the first's decode."""
    records = _bodies(TRAIN_AFTER + 400, seed=2)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records[:TRAIN_AFTER], "a"))
        store.apply(items_from(records[TRAIN_AFTER : TRAIN_AFTER + 200], "b"))
        store._bases.dicts.retrain_after(100)  # trained on the newest, 100 bodies from now
        store.apply(items_from(records[TRAIN_AFTER + 200 : TRAIN_AFTER + 300], "c"))
        store.apply(items_from(records[TRAIN_AFTER + 300 :], "d"))
        ids = _dict_ids(store)
        assert set(ids[TRAIN_AFTER : TRAIN_AFTER + 300]) == {1}
        assert set(ids[TRAIN_AFTER + 300 :]) == {2}
    with SQLiteStore.open(home) as store:  # a fresh reader: dictionaries from the file
        for rec in records:
            assert store.get_body(_sha(rec["body"])) == rec["body"].encode()


def test_a_rolled_back_training_is_not_used(home: Path) -> None:
    """A batch that trained a dictionary and then failed leaves no body naming a lost row."""
    records = _bodies(TRAIN_AFTER + 50, seed=3)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records[:TRAIN_AFTER], "a"))
        bad = items_from(records[TRAIN_AFTER : TRAIN_AFTER + 10], "b")
        # a line quarantined from a source with no offset: fails after the bodies are written
        bad.quarantined.append(Quarantine("nowhere", 0, 1, "bad", b"x"))
        with pytest.raises(KeyError):
            store.apply(bad)
        assert store._conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0] == 0
        store.apply(items_from(records[TRAIN_AFTER:], "b"))
        assert set(_dict_ids(store)[TRAIN_AFTER:]) == {1}
        for rec in records:
            assert store.get_body(_sha(rec["body"])) == rec["body"].encode()
    conn = sqlite3.connect(home / "store.sqlite")
    assert conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0] == 1
    conn.close()
