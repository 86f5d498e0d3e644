"""Applying batches: idempotent on record identity, spans merged, bodies stored once."""

import base64
import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.store import Batch, Item, SQLiteStore, StoreError, items_from
from orca.store._bodies import COMPRESS_ABOVE
from orca.testing import capture_records, temp_home


def _records(turns: int = 3) -> list[dict[str, Any]]:
    with capture_records(seed=7) as (rec, records):
        log = rec.logger("svc")
        for i in range(turns):
            turn = log.span("turn", attrs={"i": i})
            turn.log.info(f"turn {i}")
            step = turn.child("step", body="SYSTEM PROMPT " * 40)
            step.add_link(turn, reason="r")
            step.end(body=f"answer {i}")
            turn.end()
    return [dict(r) for r in records]


def _dump(store: SQLiteStore) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(store.path)
    try:
        out = {}
        for t in ("spans", "logs", "links", "bodies", "traces", "quarantine"):
            # chg is bookkeeping (which batch last touched a row), not content.
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})") if r[1] != "chg"]
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 30), max_size=4), replays=st.lists(st.integers(0, 4)))
def test_reapplying_batches_changes_nothing(cuts: list[int], replays: list[int]) -> None:
    """Any split into batches, any batch applied again: the same store as one clean apply."""
    records = _records()
    points = sorted({min(c, len(records)) for c in cuts} | {0, len(records)})
    batches = []
    for lo, hi in itertools.pairwise(points):
        b = Batch([Item(records[i], "seg", i) for i in range(lo, hi)], offsets={"seg": hi})
        batches.append(b)
    with temp_home() as a, temp_home() as b:
        with SQLiteStore.open(a) as once:
            once.apply(items_from(records, "seg"))
            want = _dump(once)
        with SQLiteStore.open(b) as store:
            for i, batch in enumerate(batches):
                store.apply(batch)
                for r in replays:
                    if r <= i:
                        store.apply(batches[r])
            assert _dump(store) == want
            assert store.offsets() == {"seg": len(records)}


def test_bodies_stored_once_and_compressed(home: Path) -> None:
    """Identical bodies are one row; large ones are zstd; both request and response kept."""
    records = _records(turns=5)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "seg"))
        conn = sqlite3.connect(store.path)
        rows = conn.execute("SELECT size, stored, enc, refs FROM bodies ORDER BY id").fetchall()
        conn.close()
        prompt = len(("SYSTEM PROMPT " * 40).encode())
        assert prompt > COMPRESS_ABOVE
        assert rows[0] == (prompt, rows[0][1], "zstd", 5) and rows[0][1] < prompt / 4
        assert [r[2] for r in rows[1:]] == ["raw"] * 5
        totals = store.totals()
        assert totals.bodies == 6 and totals.dedup_ratio > 5
        step = next(s for s in store.find_spans(name="step"))
        assert store.get_body(step.request_body or "") == ("SYSTEM PROMPT " * 40).encode()
        assert store.get_body(step.response_body or "") == b"answer 0"


def test_binary_body_round_trips(home: Path) -> None:
    """A binary body (sent base64) is stored and read back as the original bytes with its size."""
    raw = bytes(range(256)) * 4
    with capture_records() as (rec, records):
        rec.logger("a").span("upload", body=raw).end()
    with SQLiteStore.open(home) as store:
        store.apply(items_from([dict(r) for r in records], "s"))
        [span] = store.find_spans(name="upload")
        assert records[0]["body_enc"] == "base64"
        assert store.get_body(span.request_body or "") == raw
        assert span.request_body_bytes == len(raw)
        assert base64.b64decode(records[0]["body"]) == raw


def test_close_before_open_merges(home: Path) -> None:
    """A close applied before its open still yields one span with both halves."""
    records = _records(turns=1)
    opens = [r for r in records if r["kind"] == "span-open"]
    closes = [r for r in records if r["kind"] == "span-close"]
    with SQLiteStore.open(home) as store:
        store.apply(items_from(closes, "closes"))
        store.apply(items_from(opens, "opens"))
        spans = {s.name: s for s in store.get_trace(opens[0]["trace"]).spans}
        assert set(spans) == {"turn", "step"}
        assert all(s.status == "ok" and s.end_ns is not None for s in spans.values())
        assert spans["step"].parent_id == spans["turn"].span_id
        assert spans["turn"].attrs == {"i": 0}


def test_a_batch_must_name_its_offsets(home: Path) -> None:
    """A batch whose items have no source offset is refused and leaves the store empty."""
    with SQLiteStore.open(home) as store, pytest.raises(StoreError, match="no offset"):
        store.apply(Batch([Item(_records(1)[0], "seg", 0)]))
    with SQLiteStore.open(home) as store:
        assert store.totals().spans == 0  # the failed batch left nothing


def test_opening_wrong_files(home: Path) -> None:
    """A missing store, a newer schema and a non-store file each get a clear error."""
    with pytest.raises(StoreError, match="orca collect --once"):
        SQLiteStore.open(home, create=False)
    with SQLiteStore.open(home) as store:
        store.close()
    conn = sqlite3.connect(home / "store.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this ORCA"):
        SQLiteStore.open(home)
    junk = home / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a database"):
        SQLiteStore.open(junk)
