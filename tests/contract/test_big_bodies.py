"""Bodies above 256 KiB live in the home's blob store on both engines; the row keeps the address."""

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from orca.blobs import BlobStore
from orca.store import STORE_ENV, RetentionPolicy, TraceStore, items_from, open_store
from orca.store._bodies import BLOB_ABOVE
from orca.testing import capture_records

BIG = b"%PDF-1.7 " + bytes(range(256)) * (BLOB_ABOVE // 256 + 10)


def _records(body: bytes, small: str = "a small prompt") -> list[dict[str, Any]]:
    with capture_records() as (rec, records):
        span = rec.logger("reader").span("read-file", body=small)
        span.end(body=body)
    return [dict(r) for r in records]


def _sha(store: TraceStore) -> str:
    [summary] = store.list_traces()
    rows = store.get_trace(summary.trace_id)
    assert rows is not None
    sha = rows.spans[0].response_body
    assert sha is not None
    return sha


def test_big_body_goes_to_the_blob_store(store: TraceStore, home: Path) -> None:
    """The big body is a blob file of this home; read back whole, as a stream and as a slice."""
    store.apply(items_from(_records(BIG), "s1"))
    sha = _sha(store)
    assert BlobStore.open(home).exists(sha)
    assert store.get_body(sha) == BIG
    stream = store.open_body(sha)
    assert stream is not None
    with stream:
        assert stream.read() == BIG
    assert store.body_range(sha, 300_000, 100) == BIG[300_000:300_100]
    assert sha in store.blob_references()
    totals = store.totals()
    assert totals.body_bytes >= len(BIG) and totals.body_stored_bytes < len(BIG)


def test_pruned_big_body_leaves_the_blob_store(store: TraceStore, home: Path) -> None:
    """Retention that deletes the trace deletes its blob once the prune has committed."""
    store.apply(items_from(_records(BIG), "s1"))
    sha = _sha(store)
    [summary] = store.list_traces()
    result = store.prune(
        RetentionPolicy(max_age=timedelta(seconds=1), max_total_body_bytes=None),
        now_ns=summary.start_ns + 10**12,
    )
    assert result.blobs_deleted == 1
    assert not BlobStore.open(home).exists(sha)
    assert store.get_body(sha) is None


_SOURCES = itertools.count()


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(extra=st.integers(min_value=-2, max_value=2))
def test_threshold_is_strict(store: TraceStore, extra: int) -> None:
    """A body of exactly 256 KiB stays in the store; one byte more is a blob (either engine)."""
    body = b"x" * (BLOB_ABOVE + extra)
    records = _records(body, small=f"p{extra}")
    store.apply(items_from(records, f"s{next(_SOURCES)}"))  # a new segment per example
    rows = store.get_trace(records[0]["trace"])
    assert rows is not None
    sha = rows.spans[0].response_body
    assert sha is not None
    assert (sha in store.blob_references()) == (extra > 0)
    assert store.get_body(sha) == body


def test_each_host_reads_the_big_bodies_its_writers_sent(
    home: Path, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two homes, one database: the body is one row, and each home's blob store holds it."""
    monkeypatch.setenv(STORE_ENV, pg_url)
    other = tmp_path / "other-home"
    other.mkdir()
    records = _records(BIG)
    with open_store(home, create=True) as a, open_store(other, create=True) as b:
        a.apply(items_from(records, "s1"))
        b.apply(items_from(_records(BIG, small="another prompt"), "s1"))
        rows = a.get_trace(records[0]["trace"])
        assert rows is not None and rows.spans[0].response_body is not None
        sha = rows.spans[0].response_body
        assert a.totals().bodies == b.totals().bodies == 3  # the big one stored once
        assert BlobStore.open(home).exists(sha) and BlobStore.open(other).exists(sha)
        assert a.get_body(sha) == b.get_body(sha) == BIG
