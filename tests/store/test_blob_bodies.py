"""Bodies above the threshold live in the blob store: written once, read back, pruned with it."""

import random
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orca.blobs import BlobIntegrityError, BlobStore
from orca.capture import IdGenerator, ListSink, Recorder
from orca.store import RetentionPolicy, SQLiteStore, items_from

DAY = 86_400 * 10**9
BIG = random.Random(7).randbytes(200_000).hex().encode()  # 400 KB of text, above 256 KiB


def _records(bodies: list[bytes], start_ns: int = 1) -> list[dict[str, Any]]:
    clock = iter(range(start_ns, start_ns + 10**15, 1000))
    sink = ListSink()
    rec = Recorder(sink, clock=lambda: next(clock), ids=IdGenerator(1, clock_ms=lambda: 1))
    log = rec.logger("agent")
    for body in bodies:
        turn = log.span("turn")
        turn.child("provider.request", body=body.decode()).end(body="ok")
        turn.end()
    return [dict(r) for r in sink.records]


def _rows(store: SQLiteStore) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(
            "SELECT enc, lower(hex(sha256)), length(data) FROM bodies ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_big_body_goes_to_the_blob_store_once(home: Path) -> None:
    """Two spans with one 400 KB body: one blob, a row with the address and no data."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([BIG, BIG, b"small"]), "s"))
        rows = _rows(store)
        blob_rows = [r for r in rows if r[0] == "blob"]
        assert len(blob_rows) == 1 and blob_rows[0][2] == 0
        blobs = BlobStore.open(home, create=False)
        assert [i.sha256 for i in blobs.ls()] == [blob_rows[0][1]]
        span = next(iter(store.find_spans(name="provider.request")))
        assert span.request_body_bytes == len(BIG)
        assert store.get_body(span.request_body or "") == BIG
        stream = store.open_body(span.request_body or "")
        assert stream is not None
        with stream:
            assert stream.read(100) == BIG[:100]
        assert store.blob_references() == {blob_rows[0][1]}


def test_threshold_is_a_setting(home: Path) -> None:
    """Below the threshold a body stays inline; lowering it moves even small bodies out."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([b"x" * 1000]), "s"))
        assert {r[0] for r in _rows(store)} <= {"raw", "zstd"}
    with SQLiteStore.open(home / "other") as store:
        store.blob_above = 500
        store.apply(items_from(_records([b"x" * 1000]), "s"))
        assert "blob" in {r[0] for r in _rows(store)}


def test_prune_deletes_the_blob_with_its_trace(home: Path) -> None:
    """Retention removing the last span that references a blob removes the blob file too."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([BIG]), "s"))
        result = store.prune(
            RetentionPolicy(max_age=timedelta(days=1), max_total_body_bytes=None), now_ns=5 * DAY
        )
        assert result.traces == 1 and result.blobs_deleted == 1
        assert list(BlobStore.open(home, create=False).ls()) == []
        assert store.blob_references() == set()


def test_evicting_over_the_cap_deletes_blobs(home: Path) -> None:
    """The byte cap counts blob bytes on disk and evicts them oldest first."""
    other = random.Random(8).randbytes(200_000).hex().encode()
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([BIG, other]), "s"))
        result = store.prune(RetentionPolicy(max_age=None, max_total_body_bytes=300_000))
        assert result.blobs_deleted == 1
        kept = store.blob_references()
        assert len(kept) == 1
        assert [i.sha256 for i in BlobStore.open(home, create=False).ls()] == list(kept)


def test_search_skips_blob_bodies(home: Path) -> None:
    """Blob bodies are not copied into the search index (and indexing does not fail on them)."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([b"needle " + BIG]), "s"))
        assert store.search("needle", where="bodies") == []


def test_a_damaged_blob_body_is_reported(home: Path) -> None:
    """Reading a body whose blob was altered raises the named integrity error, not bad bytes."""
    with SQLiteStore.open(home) as store:
        store.apply(items_from(_records([BIG]), "s"))
        blobs = BlobStore.open(home, create=False)
        (info,) = blobs.ls()
        path = blobs.path(info.sha256)
        raw = bytearray(path.read_bytes())
        raw[-5] ^= 1
        path.write_bytes(bytes(raw))
        span = next(iter(store.find_spans(name="provider.request")))
        with pytest.raises(BlobIntegrityError, match="tampered"):
            store.get_body(span.request_body or "")
