"""The search index holds no text, forgets what prune and forget delete, and migrates old stores."""

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orca.store import Batch, LedgerItem, LedgerRow, RetentionPolicy, SQLiteStore, items_from
from orca.store._ids import text
from orca.store._schema import MIGRATIONS
from orca.testing import temp_home

DAY = 86_400 * 10**9
NOW = 100 * DAY
AGE_30D = RetentionPolicy(max_age=timedelta(days=30), max_total_body_bytes=None)


def _turn(n: int, ts: int, marker: str) -> list[dict[str, Any]]:
    """One trace whose log, attribute, small body and big body each carry ``marker``."""
    trace, span = f"{n:032x}", f"{n:016x}"
    base = {"v": 1, "component": "t", "trace": trace}
    filler = " ".join(f"word{i % 97} {marker if i == 450 else 'pad'}" for i in range(900))
    return [
        {
            **base,
            "kind": "span-open",
            "ts": ts,
            "span": span,
            "name": "step",
            "attrs": {"topic": f"about {marker}", "n": n},
            "body": f"short {marker} body",  # stored raw (below the zstd threshold)
        },
        {**base, "kind": "log", "ts": ts + 1, "span": span, "level": "info", "msg": marker},
        {
            **base,
            "kind": "span-close",
            "ts": ts + 2,
            "span": span,
            "status": "ok",
            "body": filler,  # zstd-compressed
        },
    ]


def _files_contain(store: SQLiteStore, needle: str) -> list[str]:
    found = []
    for suffix in ("", "-wal", "-journal"):
        path = Path(str(store.path) + suffix)
        if path.exists() and needle.encode() in path.read_bytes():
            found.append(path.name)
    return found


def test_the_index_stores_no_copy_of_the_text(home: Path) -> None:
    """No FTS5 content tables exist, and the index alone cannot give a document back."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_turn(1, NOW, "quokkamarker"), "seg"))
        store.catch_up_search()  # the collector's chore: search only reads
        assert len(store.search("quokkamarker")) == 4  # log, attribute, both bodies
        conn = sqlite3.connect(store.path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema")}
        assert not {t for t in tables if t.startswith("fts_") and t.endswith("_content")}
        got = conn.execute("SELECT text FROM fts_bodies WHERE fts_bodies MATCH 'quokkamarker'")
        assert got.fetchall() == [(None,), (None,)]
        conn.close()


def test_prune_removes_the_text_from_index_and_files(home: Path) -> None:
    """After prune, search finds no old text and no byte of it is left in the store's files."""
    old = _turn(1, NOW - 40 * DAY, "zanzibarold")
    new = _turn(2, NOW - DAY, "quixotenew")
    with SQLiteStore.open(home) as store:
        store.apply(items_from(old + new, "seg"))
        store.catch_up_search()
        assert len(store.search("zanzibarold")) == 4
        assert _files_contain(store, "zanzibarold") != []
        store.prune(AGE_30D, now_ns=NOW)
        assert store.search("zanzibarold") == []
        assert len(store.search("quixotenew")) == 4  # the kept trace is still found
        assert _files_contain(store, "zanzibarold") == []
        assert _files_contain(store, "quixotenew") != []


def test_body_eviction_removes_bodies_from_the_index(home: Path) -> None:
    """Bodies evicted over the byte cap are no longer found (their spans still are)."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_turn(1, NOW, "okapimarker"), "seg"))
        store.catch_up_search()
        store.prune(RetentionPolicy(max_age=None, max_total_body_bytes=0), now_ns=NOW)
        assert {h.where for h in store.search("okapimarker")} == {"attrs", "logs"}
        assert "okapimarker" not in str(store.search("pad", where="bodies"))


def _ledger_row(i: int, secret: str) -> LedgerRow:
    return LedgerRow(
        id=i,
        ts_ns=NOW,
        kind="task.completed",
        run="r1",
        trace_id="a" * 32,
        span_id=None,
        actor="worker",
        prev=f"{i - 1:064x}",
        hash=f"{i:064x}",
        payload_hash="c" * 64,
        args={"email": secret},
        result=None,
        meta=None,
        signature=None,
        key_id=None,
    )


def test_forget_leaves_no_byte_of_the_payload(home: Path) -> None:
    """A ledger payload erased by ``forget`` is not searchable and not in the store files."""
    secret = "wombat.person@example.org"
    with SQLiteStore.open(home) as store:
        store.apply(
            Batch(
                ledger=[LedgerItem(_ledger_row(1, secret), "ledger/ledger.ndjson", 0)],
                offsets={"ledger/ledger.ndjson": 100},
            )
        )
        assert _files_contain(store, secret) != []
        assert store.erase_ledger_payloads([1]) == 1
        assert store.search("wombat") == []
        assert _files_contain(store, secret) == []


def test_schema_3_store_is_migrated_and_reindexed(home: Path) -> None:
    """A store written by schema 3 (content-copy FTS) opens as 4 and searches the same."""
    path = home / "store.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        for statement in migration:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO fts_logs (rowid, text) VALUES (1, 'stale copy quaggaold')")
    conn.close()
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_turn(1, NOW, "tapirmarker"), "seg"))
        store.catch_up_search()
        assert len(store.search("tapirmarker")) == 4
        assert store.search("quaggaold") == []
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


WORDS = ["alpha", "beta", "gamma-ray", "delta", "x.y"]


def _span(i: int, words: list[str], ts: int) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "span-open",
        "ts": ts,
        "component": "t",
        "trace": f"{i % 3 + 1:032x}",
        "span": f"{i + 1:016x}",
        "name": "s",
        "attrs": {"w": " ".join(words)},
    }


@settings(max_examples=30, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["open", "close", "index", "prune", "evict"]),
            st.integers(0, 7),
            st.lists(st.sampled_from(WORDS), max_size=3),
        ),
        max_size=14,
    )
)
def test_index_agrees_with_the_rows(ops: list[tuple[str, int, list[str]]]) -> None:
    """After any mix of opens, re-closes, catch-ups, prunes and body evictions, search finds
    exactly what a scan of the rows and bodies finds."""
    with temp_home() as home, SQLiteStore.open(home) as store:
        for n, (op, i, words) in enumerate(ops):
            if op == "open":
                rec = _span(i, words, NOW - (40 * DAY if i % 3 == 0 else DAY))
                rec["body"] = f"body {n} " + " ".join(words) + " pad" * (60 if n % 2 else 1)
                store.apply(items_from([rec], f"s{n}"))
            elif op == "close":
                close = {**_span(i, [], NOW), "kind": "span-close", "status": "ok"}
                del close["name"]
                close["attrs"] = {"v": " ".join(words)}
                store.apply(items_from([close], f"s{n}"))
            elif op == "index":
                store.catch_up_search()
            elif op == "prune":
                store.prune(AGE_30D, now_ns=NOW)
            else:
                cap = RetentionPolicy(max_age=None, max_total_body_bytes=60 * i)
                store.prune(cap, now_ns=NOW)
        store.catch_up_search()
        conn = sqlite3.connect(store.path)
        rows = conn.execute("SELECT span_id, attrs FROM spans").fetchall()
        shas = [r[0] for r in conn.execute("SELECT lower(hex(sha256)) FROM bodies")]
        conn.close()
        bodies = [(store.get_body(sha) or b"").decode() for sha in shas]
        for word in WORDS:
            want = {text(s) for s, attrs in rows if attrs and word in attrs}
            got = {h.span_id for h in store.search(word, where="attrs", limit=100)}
            assert got == want, word
            hits = store.search(word, where="bodies", limit=100)
            assert len(hits) == sum(word in b.split() for b in bodies), word
