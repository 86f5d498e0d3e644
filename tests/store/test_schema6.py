"""Schema 6: body hashes stored as 32-byte blobs; a schema-5 store converts in place."""

import base64
import hashlib
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from orca.store import RetentionPolicy, SQLiteStore, _fts, items_from
from orca.store._bodies import SHA_WHERE
from orca.testing import temp_home

GOLDEN = Path(__file__).parent / "golden"
NOW = 1_750_000_000_000_000_000
DAY = 86_400 * 10**9


def _migrated(home: Path) -> tuple[SQLiteStore, dict[str, Any]]:
    """The schema-5 fixture opened (so migrated) by today's code, and what it must read as."""
    shutil.copyfile(GOLDEN / "store_v5.sqlite", home / "store.sqlite")
    return SQLiteStore.open(home), orjson.loads((GOLDEN / "store_v4.json").read_bytes())


def _span_hashes(conn: sqlite3.Connection) -> list[tuple[Any, Any]]:
    return conn.execute("SELECT request_body, response_body FROM spans ORDER BY id").fetchall()


def test_a_schema_5_store_holds_its_hashes_as_blobs(home: Path) -> None:
    """Every hash in bodies and spans becomes its 32 bytes; lookups still use bodies_sha."""
    store, want = _migrated(home)
    with store:
        conn = store._conn
        stored = [r[0] for r in conn.execute("SELECT sha256 FROM bodies")]
        assert stored and all(type(s) is bytes and len(s) == 32 for s in stored)
        assert {s.hex() for s in stored} == set(want["bodies"])
        in_spans = [h for row in _span_hashes(conn) for h in row if h is not None]
        assert in_spans and all(type(h) is bytes and len(h) == 32 for h in in_spans)
        assert {h.hex() for h in in_spans} == set(want["bodies"])
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM bodies WHERE {SHA_WHERE}", (stored[0],)
        ).fetchall()
        assert any("bodies_sha" in row[-1] for row in plan), plan
        triggers = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
        assert "fts_spans_update" in triggers  # dropped for the conversion, made again
        for sha, text in want["bodies"].items():
            assert store.get_body(sha) == text.encode()


def test_a_migrated_store_evicts_but_keeps_its_pinned_bodies(home: Path) -> None:
    """Over a byte cap the oldest unpinned bodies go; the pinned trace's still read back."""
    store, want = _migrated(home)
    with store:
        [pinned] = [t for t in want["traces"] if t["summary"]["pinned"]]
        mine = {s[k] for s in pinned["spans"] for k in ("request_body", "response_body")} - {None}
        result = store.prune(RetentionPolicy(max_age=None, max_total_body_bytes=1), now_ns=NOW)
        assert result.bodies_evicted > 0
        left = {sha for sha in want["bodies"] if store.get_body(sha) is not None}
        assert mine <= left < set(want["bodies"])
        for trace in want["traces"]:  # every span still names its body by its hex hash
            rows = store.get_trace(trace["summary"]["trace_id"])
            assert rows is not None
            got = [(s.request_body, s.response_body) for s in rows.spans]
            assert got == [(s["request_body"], s["response_body"]) for s in trace["spans"]]


def test_a_trace_pinned_after_the_migration_keeps_its_bodies(home: Path) -> None:
    """Pin one more trace, prune everything by age: exactly the two pinned traces' bodies stay."""
    store, want = _migrated(home)
    with store:
        late = want["traces"][-1]
        store.pin(late["summary"]["trace_id"])
        store.prune(RetentionPolicy(max_age=timedelta(0), max_total_body_bytes=None), now_ns=2**62)
        kept = [t for t in want["traces"] if t["summary"]["pinned"]] + [late]
        bodies = {s[k] for t in kept for s in t["spans"] for k in ("request_body", "response_body")}
        bodies.discard(None)
        left = {sha for sha in want["bodies"] if store.get_body(sha) is not None}
        assert left == bodies
        count = store._conn.execute("SELECT count(*) FROM bodies").fetchone()[0]
        assert count >= len(bodies)  # (plus the bases they decode from)


@given(st.lists(st.binary(max_size=600), min_size=1, max_size=6))
def test_any_body_reads_back_by_its_hex_hash(bodies: list[bytes]) -> None:
    """Any bytes stored as a body read back by sha256 hex; the row holds the 32-byte digest."""
    with temp_home() as home, SQLiteStore.open(home) as store:
        records = []
        for i, body in enumerate(bodies):
            base = {"v": 1, "component": "agent", "trace": f"{i + 1:032x}", "span": f"{i:016x}"}
            records += [
                {
                    **base,
                    "kind": "span-open",
                    "ts": NOW + i,
                    "name": "step",
                    "body": base64.b64encode(body).decode(),
                    "body_enc": "base64",
                },
                {**base, "kind": "span-close", "ts": NOW + i + 1, "status": "ok"},
            ]
        store.apply(items_from(records, "seg"))
        for i, body in enumerate(bodies):
            sha = hashlib.sha256(body).hexdigest()
            assert store.get_body(sha) == body
            span = store.get_span(f"{i:016x}")
            assert span is not None and span.request_body == sha
            stream = store.open_body(sha)
            assert stream is not None and stream.read() == body
        stored = {r[0] for r in store._conn.execute("SELECT sha256 FROM bodies")}
        assert stored == {hashlib.sha256(b).digest() for b in bodies}


def test_a_legacy_text_hash_stays_text_and_still_works(home: Path) -> None:
    """A hash that is not lower-case hex stays text: it reads back, shows, and is pruned."""
    odd, upper = "legacy:not-hex", hashlib.sha256(b"upper").hexdigest().upper()
    records = []
    for i in range(2):
        base = {"v": 1, "component": "agent", "trace": f"{i + 1:032x}", "span": f"{i:016x}"}
        records += [
            {**base, "kind": "span-open", "ts": NOW - 40 * DAY + i, "name": "step"},
            {**base, "kind": "span-close", "ts": NOW - 40 * DAY + i + 1, "status": "ok"},
        ]
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "seg"))
        conn = store._conn
        with conn:  # rows as an older or foreign writer may have left them
            for i, sha in enumerate((odd, upper)):
                conn.execute(
                    "INSERT INTO bodies (sha256, size, stored, enc, data, first_ns)"
                    " VALUES (?, 5, 5, 'raw', ?, 0)",
                    (sha, f"body{i}".encode()),
                )
                conn.execute(
                    "UPDATE spans SET request_body = ?, request_body_bytes = 5 WHERE span_id = ?",
                    (sha, bytes.fromhex(f"{i:016x}")),
                )
        assert [r[0] for r in conn.execute("SELECT typeof(sha256) FROM bodies")] == ["text"] * 2
        for i, sha in enumerate((odd, upper)):
            assert store.get_body(sha) == f"body{i}".encode()
            span = store.get_span(f"{i:016x}")
            assert span is not None and span.request_body == sha
        assert store.get_body(upper.lower()) is None  # the lower-case hash is another value
        result = store.prune(RetentionPolicy(timedelta(days=30), None), now_ns=NOW)
        assert result.traces == 2 and result.bodies_collected == 2
        assert store.get_body(odd) is None


def test_a_non_hex_hash_in_a_schema_5_store_stays_text(home: Path) -> None:
    """The conversion leaves a hash that is not lower-case hex as it was, still readable."""
    shutil.copyfile(GOLDEN / "store_v5.sqlite", home / "store.sqlite")
    odd = "imported:0001"
    conn = sqlite3.connect(home / "store.sqlite")
    _fts.register(conn)  # the bodies' search-index trigger calls it
    with conn:  # as schema 5's code would hold a body some importer named so
        conn.execute(
            "INSERT INTO bodies (sha256, size, stored, enc, data, first_ns)"
            " VALUES (?, 3, 3, 'raw', x'6f6464', 0)",
            (odd,),
        )
        conn.execute("UPDATE spans SET response_body = ? WHERE name = 'turn'", (odd,))
    conn.close()
    with SQLiteStore.open(home) as store:
        kinds = dict(store._conn.execute("SELECT sha256, typeof(sha256) FROM bodies"))
        assert kinds[odd] == "text" and list(kinds.values()).count("blob") == len(kinds) - 1
        assert store.get_body(odd) == b"odd"
        turns = store.find_spans(name="turn")
        assert turns and all(s.response_body == odd for s in turns)
