"""Compaction: bodies recompressed hard read back the same; cursor, damage, search, SIGKILL."""

import base64
import random
import shutil
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.store import RetentionPolicy, SQLiteStore, items_from
from orca.store._bodies import digest
from orca.store._compact import CURSOR
from orca.store._ids import text
from orca.testing import python_child

TRAIN = 40  # bodies before the test stores train their dictionary (the default is 1000)


def _words(rng: random.Random) -> list[str]:
    return ["".join(rng.choices("abcdefghijklmnop", k=rng.randint(2, 9))) for _ in range(3000)]


def _record(i: int, data: bytes, ts: int | None = None) -> dict[str, Any]:
    """A span-open carrying ``data`` as its body (base64: any bytes)."""
    return {
        "v": 1,
        "kind": "span-open",
        "ts": ts if ts is not None else i + 1,
        "trace": f"{i + 1:032x}",
        "span": f"{i + 1:016x}",
        "name": "step",
        "component": "agent",
        "body": base64.b64encode(data).decode(),
        "body_enc": "base64",
    }


def _texts(n: int, seed: int, words: tuple[int, int] = (60, 120)) -> list[bytes]:
    rng = random.Random(seed)
    vocab = _words(rng)
    return [" ".join(rng.choices(vocab, k=rng.randint(*words))).encode() for _ in range(n)]


def _open(path: Path) -> SQLiteStore:
    store = SQLiteStore.open(path)
    store._bases.dicts.train_after = TRAIN
    return store


def _fill(store: SQLiteStore, bodies: list[bytes], first: int = 0, batch: int = 50) -> None:
    for i in range(0, len(bodies), batch):
        chunk = [_record(first + i + j, b) for j, b in enumerate(bodies[i : i + batch])]
        store.apply(items_from(chunk, f"s{first + i}"))


def _rows(store: SQLiteStore) -> list[tuple[Any, ...]]:
    return store._conn.execute(
        "SELECT id, sha256, enc, data, stored, base, dict FROM bodies ORDER BY id"
    ).fetchall()


def _read_all(store: SQLiteStore) -> dict[str, bytes | None]:
    shas = [text(r[0]) for r in store._conn.execute("SELECT sha256 FROM bodies")]
    return {sha: store.get_body(sha) for sha in shas}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file whose dictionary was trained, and bodies stored before and after it."""
    path = tmp_path_factory.mktemp("trained") / "store.sqlite"
    with _open(path) as store:
        _fill(store, _texts(TRAIN + 60, seed=1))  # the first TRAIN have no dictionary
        assert store._conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0] == 1
    return path


def _copy(trained: Path, into: Path) -> SQLiteStore:
    shutil.copyfile(trained, into / "store.sqlite")
    return _open(into / "store.sqlite")


_BODY = st.one_of(
    st.binary(max_size=3000),  # high entropy: stays as it was (nothing pays)
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=20), st.integers(1, 400)),
    st.builds(
        lambda seed, n: _texts(1, seed, (n, n))[0], st.integers(0, 10**6), st.integers(1, 800)
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(_BODY, min_size=1, max_size=12))
def test_bodies_read_back_byte_identical(trained: Path, bodies: list[bytes]) -> None:
    """Any mix of sizes and entropy reads back byte-identical after compaction; none grows."""
    with tempfile.TemporaryDirectory() as d:
        with _copy(trained, Path(d)) as store:
            _fill(store, bodies, first=10_000)
            before = _read_all(store)
            stored = {r[0]: r[4] for r in _rows(store)}
            result = store.compact()
            assert result.done and result.damaged == 0
            assert _read_all(store) == before
            assert all(sha == digest(data) for sha, data in before.items() if data is not None)
            assert all(r[4] <= stored[r[0]] for r in _rows(store))
            assert store.totals().bodies_to_compact == 0


def test_the_dictionary_and_level_shrink_bodies_stored_before_it(trained: Path, home: Path) -> None:
    """Bodies stored before the dictionary existed get it; every text body shrinks."""
    with _copy(trained, home) as store:
        assert store.totals().bodies_to_compact == TRAIN + 60
        before = store.totals().body_stored_bytes
        result = store.compact()
        assert result.rewritten == TRAIN + 60 and result.saved_bytes > 0
        assert {r[6] for r in _rows(store)} == {1}  # all name the one dictionary now
        assert store.totals().body_stored_bytes == before - result.saved_bytes


def test_cursor_resumes_and_nothing_is_done_twice(trained: Path, home: Path) -> None:
    """Steps of a few bodies each advance the cursor; a second run finds nothing to do."""
    with _copy(trained, home) as store:
        total = store.totals().bodies_to_compact
        first = store.compact(steps=2, chunk=7)
        assert first.bodies == 14 and not first.done
        assert store.totals().bodies_to_compact == total - 14
        cursor = store._conn.execute("SELECT value FROM meta WHERE key = ?", (CURSOR,)).fetchone()
        assert cursor[0] == _rows(store)[13][0]
    with _open(home / "store.sqlite") as store:  # a new process: the cursor is in the file
        rest = store.compact()
        assert rest.bodies == total - 14 and rest.done
        again = store.compact()
        assert again.bodies == 0 and again.rewritten == 0 and again.done


def test_a_step_past_its_time_takes_no_more_bodies(trained: Path, home: Path) -> None:
    """With its time spent (step_ms=0) a step still does one body, so compaction advances."""
    with _copy(trained, home) as store:
        total = store.totals().bodies_to_compact
        result = store.compact(steps=3, step_ms=0)
        assert result.bodies == 3 and not result.done
        assert store.totals().bodies_to_compact == total - 3


def test_a_body_that_does_not_verify_is_left_and_counted(trained: Path, home: Path) -> None:
    """A body decoding to other bytes, or not at all, keeps its row; status counts it."""
    with _copy(trained, home) as store:
        rows = _rows(store)
        wrong, garbage = rows[3], rows[50]
        other = zstandard.ZstdCompressor().compress(b"not the bytes of this hash " * 20)
        conn = store._conn
        conn.execute(
            "UPDATE bodies SET enc = 'zstd', data = ?, dict = NULL WHERE id = ?", (other, wrong[0])
        )
        conn.execute(
            "UPDATE bodies SET data = ? WHERE id = ?", (b"\x28\xb5\x2f\xfd junk", garbage[0])
        )
        damaged = {r[0]: r for r in _rows(store) if r[0] in (wrong[0], garbage[0])}
        result = store.compact()
        assert result.damaged == 2 and result.rewritten == len(rows) - 2
        after = {r[0]: r for r in _rows(store)}
        assert all(after[i] == row for i, row in damaged.items())
        assert store.totals().bodies_damaged == 2


def test_blob_store_bodies_are_left_where_they_are(trained: Path, home: Path) -> None:
    """A body in the blob store keeps its row and file; it reads back; it never awaits."""
    big = _texts(1, seed=5, words=(400, 400))[0]
    with _copy(trained, home) as store:
        store.blob_above = 1000
        _fill(store, [big], first=30_000)
        [blob] = [r for r in _rows(store) if r[2] == "blob"]
        assert store.totals().bodies_to_compact == TRAIN + 60  # the blob is not counted
        result = store.compact()
        assert result.damaged == 0 and result.bodies == TRAIN + 61
        assert [r for r in _rows(store) if r[0] == blob[0]] == [blob]
        assert store.get_body(text(blob[1])) == big


def test_growing_prompts_keep_their_references(trained: Path, home: Path) -> None:
    """A zstd-ref chain (each prompt the previous one grown) recompresses and reads back."""
    prompt, prompts = b"system: be brief.", []
    for words in _texts(20, seed=9, words=(20, 30)):
        prompt += b"\nuser: " + words
        prompts.append(prompt)
    records = [
        {**_record(0, p, ts=50_000 + i), "span": f"{i + 1:016x}"} for i, p in enumerate(prompts)
    ]
    with _copy(trained, home) as store:
        store.apply(items_from(records, "conversation"))
        refs = [r for r in _rows(store) if r[2] == "zstd-ref"]
        assert len(refs) >= 10
        before = _read_all(store)
        assert store.compact().damaged == 0
        assert _read_all(store) == before
        kept = {r[0]: r for r in _rows(store)}
        assert all(kept[r[0]][2] == "zstd-ref" and kept[r[0]][5] == r[5] for r in refs)


def test_search_finds_and_forgets_compacted_bodies(trained: Path, home: Path) -> None:
    """Hits are identical after compaction; a pruned compacted body leaves the index."""
    with _copy(trained, home) as store:
        store.catch_up_search()
        _fill(store, [b"the quokka sighed " * 30], first=20_000)
        store.catch_up_search()
        word = _texts(1, seed=1)[0].split()[0].decode()
        hits = {q: store.search(q, limit=50) for q in (word, "quokka")}
        assert hits[word] and hits["quokka"]
        result = store.compact()
        assert result.rewritten > 0 and result.merged > 0
        assert {q: store.search(q, limit=50) for q in hits} == hits
        for table in ("fts_bodies", "fts_attrs"):  # each merged once (its cursor noted)
            key = f"compact.{table}"
            assert store._conn.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone()
        store.prune(RetentionPolicy(timedelta(0), None), now_ns=2**62)
        assert store.search("quokka") == [] and store.search(word) == []


_CHILD = """
import sys
from orca.store import SQLiteStore
store = SQLiteStore.open(sys.argv[1])
print("ready", flush=True)
while not store.compact(steps=1, chunk=2).done:
    print("step", flush=True)
"""


def test_sigkill_in_the_middle_loses_nothing(home: Path) -> None:
    """A compaction SIGKILLed mid-way: every body reads back by its sha; a rerun finishes."""
    path = home / "store.sqlite"
    with _open(path) as store:
        _fill(store, _texts(TRAIN + 600, seed=3), batch=100)
        want = _read_all(store)
    with python_child(_CHILD, str(path), ready="ready") as child:
        assert child.stdout is not None
        for _ in range(3):
            assert child.stdout.readline().strip() == "step"
        child.kill()
        child.wait(timeout=30)
    conn = sqlite3.connect(path)
    cursor = conn.execute("SELECT value FROM meta WHERE key = ?", (CURSOR,)).fetchone()
    conn.close()
    assert cursor is not None and cursor[0] >= 6  # it got at least three steps in
    with _open(path) as store:
        assert _read_all(store) == want
        assert store.compact().done
        assert _read_all(store) == want and store.totals().bodies_to_compact == 0
