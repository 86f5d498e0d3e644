"""Storage bench: bytes per span (journal, store, search index) and `orca search` latency.

The load (``_agentload``): agent-shaped turns of 13 spans, a unique ~2 KB
prompt and ~400 B response on each LLM span, realistic-entropy text (no two
bodies alike, no small vocabulary). All figures come from the same run:

* bytes per span of the journal (NDJSON written by the real sink), of the
  store after ``orca collect`` without the search index and with it built,
  each after a checkpoint and VACUUM, per table from ``dbstat``; and of the
  store with the index of schema 3 (FTS5 tables holding a copy of every
  text), rebuilt beside it as the baseline. Target: store + index ≤ 0.6x
  the journal's bytes per span.
* the same store + index after compaction, run as the collector runs it when
  idle (``compact(steps=1, step_ms=…)`` until done): bodies recompressed at zstd 19 with
  the trained dictionary, search segments merged; per table, the time per
  body and the longest step (what an ingest arriving mid-compaction waits).
* ``orca search`` p50 over a fixed query set (common, rare and multi-token
  words, two-word queries) on a store of 1,000,000 spans, with the schema-3
  index and query (the old path, kept here runnable) against the contentless
  index: target no worse. Every query's hits (ids, order, snippets) are
  compared between the two.

``--quick`` (or ORCA_BENCH_QUICK=1): 26,000 spans for bytes, 100,000 for
search. ``ORCA_BENCH_SPANS`` overrides the search store's size. Ends with one
line of JSON.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parent))

import _agentload
from orca.collector import Collector, CollectorConfig
from orca.store import RetentionPolicy, SQLiteStore, _attrs, items_from
from orca.store._fts import body_text, log_text, span_text
from orca.store._ids import text_or_none

# -- the schema-3 index and query, kept runnable as the baseline ----------------------------

_LEGACY_TABLES = {"logs": "legacy_logs", "attrs": "legacy_attrs", "bodies": "legacy_bodies"}
_LEGACY_QUERIES = {
    "logs": "SELECT l.trace_id, l.span_id, l.ts_ns, snippet(legacy_logs, 0, '[', ']', '…', 12)"
    " FROM legacy_logs JOIN logs l ON l.id = legacy_logs.rowid WHERE legacy_logs MATCH ?",
    "attrs": "SELECT s.trace_id, s.span_id, s.start_ns,"
    " snippet(legacy_attrs, 0, '[', ']', '…', 12)"
    " FROM legacy_attrs JOIN spans s ON s.id = legacy_attrs.rowid WHERE legacy_attrs MATCH ?",
    "bodies": "SELECT b.trace_id, b.span_id, b.first_ns,"
    " snippet(legacy_bodies, 0, '[', ']', '…', 12)"
    " FROM legacy_bodies JOIN bodies b ON b.id = legacy_bodies.rowid WHERE legacy_bodies MATCH ?",
}
_TS = {"logs": "l.ts_ns", "attrs": "s.start_ns", "bodies": "b.first_ns"}


def build_legacy_index(conn: sqlite3.Connection) -> None:
    """The content-copy FTS5 tables of schema 3, filled with the same texts."""
    _attrs.register(conn)  # span_text reads span attributes through orca_attrs
    for table in _LEGACY_TABLES.values():
        conn.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(text, tokenize='unicode61')")
    conn.execute("BEGIN")
    conn.execute(f"INSERT INTO legacy_logs (rowid, text) SELECT l.id, {log_text('l')} FROM logs l")
    conn.execute(
        f"INSERT INTO legacy_attrs (rowid, text) SELECT s.id, {span_text('s')} FROM spans s"
    )
    ids = [r[0] for r in conn.execute("SELECT id FROM bodies ORDER BY id")]
    for i in range(0, len(ids), 5000):
        rows = [(b, body_text(conn, b)) for b in ids[i : i + 5000]]
        conn.executemany("INSERT INTO legacy_bodies (rowid, text) VALUES (?, ?)", rows)
    conn.execute("COMMIT")


def legacy_search(conn: sqlite3.Connection, text: str, limit: int = 20) -> list[tuple[Any, ...]]:
    """The search of schema 3: snippets made by FTS5 from its copy of the text."""
    query = " ".join('"' + w.replace('"', '""') + '"' for w in text.split())
    if not query:
        return []
    hits: list[tuple[Any, ...]] = []
    for place, sql in _LEGACY_QUERIES.items():
        rows = conn.execute(sql + f" ORDER BY {_TS[place]} DESC LIMIT ?", (query, limit))
        hits.extend((text_or_none(t), text_or_none(s), ts, place, snip) for t, s, ts, snip in rows)
    hits.sort(key=lambda h: h[2], reverse=True)
    return hits[:limit]


# -- bytes per span --------------------------------------------------------------------------


_DROP_NEW = (
    "DROP TRIGGER fts_spans_update",
    "DROP TRIGGER fts_spans_delete",
    "DROP TRIGGER fts_logs_delete",
    "DROP TRIGGER fts_bodies_delete",
    "DROP TABLE fts_attrs",
    "DROP TABLE fts_logs",
    "DROP TABLE fts_bodies",
)


def vacuumed(path: Path, spans: int, drop: tuple[str, ...] = ()) -> tuple[float, dict[str, float]]:
    """Bytes per span of a copy of ``path`` (less ``drop``) after checkpoint + VACUUM; per table."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = path.with_suffix(".copy")
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    for statement in drop:
        conn.execute(statement)
    conn.execute("VACUUM")
    tables = {
        name: size / spans
        for name, size in conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        )
    }
    conn.close()
    size = copy.stat().st_size
    copy.unlink()
    return size / spans, tables


def prune_cost(path: Path, share: int = 10) -> tuple[float, float]:
    """Seconds to prune the oldest ``1/share`` of the traces, and the floor: plain DELETEs of
    the same traces' spans, logs, links and rows and of the bodies no span references any
    more (search-index triggers included), each on its own copy of ``path``.

    (Before schema 5 the body reference update read every doomed span once per doomed
    body, quadratic in what is pruned: a tenth of 130,000 spans took 95-144 s.)"""
    conn = sqlite3.connect(path, isolation_level=None)
    starts = [r[0] for r in conn.execute("SELECT start_ns FROM traces ORDER BY start_ns")]
    conn.close()
    cutoff = starts[len(starts) // share]
    copy = path.with_name("prune.sqlite")
    shutil.copyfile(path, copy)
    now = time.time_ns()
    policy = RetentionPolicy(
        max_age=timedelta(microseconds=(now - cutoff) / 1000), max_total_body_bytes=None
    )
    with SQLiteStore.open(copy) as store:
        t = time.perf_counter()
        result = store.prune(policy, now_ns=now)
        prune_s = time.perf_counter() - t
        assert abs(result.traces - len(starts) // share) <= 1, result  # (µs rounding)
    shutil.copyfile(path, copy)
    with SQLiteStore.open(copy) as store:
        conn = store._conn
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "CREATE TEMP TABLE doomed AS SELECT trace_id FROM traces WHERE start_ns < ?", (cutoff,)
        )
        for table in ("spans", "logs", "links", "traces"):
            conn.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT trace_id FROM doomed)")
        # newest first, as prune does (a body's base is deleted after it); a body's hash
        # and a span's reference to it are stored alike (32-byte blobs), so they compare
        conn.execute(
            "DELETE FROM bodies WHERE id IN (SELECT id FROM bodies WHERE sha256 NOT IN"
            " (SELECT request_body FROM spans WHERE request_body IS NOT NULL UNION"
            " SELECT response_body FROM spans WHERE response_body IS NOT NULL) ORDER BY id DESC)"
        )
        conn.execute("COMMIT")
        floor_s = time.perf_counter() - t
    copy.unlink()
    return prune_s, floor_s


def _top(tables: dict[str, float], n: int = 8) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in list(tables.items())[:n])


def storage(spans: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orca-bench-storage-") as d:
        home = Path(d)
        journal = _agentload.write_journal(home, spans)
        config = CollectorConfig(
            search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9, journal_grace=None
        )
        with Collector(home, config) as c:
            c.drain()
            n = c.store.totals().spans
        path = home / "store.sqlite"
        bare, bare_tables = vacuumed(path, n)
        with SQLiteStore.open(home) as store:
            store.catch_up_search()
        indexed, indexed_tables = vacuumed(path, n)
        conn = sqlite3.connect(path, isolation_level=None)
        build_legacy_index(conn)
        conn.close()
        legacy, both_tables = vacuumed(path, n, _DROP_NEW)  # the store with the schema-3 index
        with sqlite3.connect(path, isolation_level=None) as conn:
            for table in _LEGACY_TABLES.values():
                conn.execute(f"DROP TABLE {table}")
        prune_s, prune_floor_s = prune_cost(path)
        compaction = compact(path)
        compacted, compacted_tables = vacuumed(path, n)
        per_span = journal / n
        index_tables = {k: v for k, v in indexed_tables.items() if k.startswith("fts_")}
        legacy_tables = {k: v for k, v in both_tables.items() if k.startswith("legacy_")}
    print(f"bytes per span over {n:,} spans (checkpoint + VACUUM):")
    print(f"  journal (NDJSON)                 {per_span:7.0f}")
    print(f"  store without search index       {bare:7.0f}  ({bare / per_span:.2f}x journal)")
    print(
        f"  store + contentless index        {indexed:7.0f}  ({indexed / per_span:.2f}x journal;"
        " target <= 0.6x)"
    )
    print(f"  store + schema-3 index (baseline){legacy:7.0f}  ({legacy / per_span:.2f}x journal)")
    print(
        f"  prune of the oldest tenth of the traces: {prune_s:.2f}s vs {prune_floor_s:.2f}s to"
        f" DELETE the same rows and bodies (floor; {prune_s / prune_floor_s:.1f}x)"
    )
    print(f"  per table, store: {_top(bare_tables)}")
    print(f"  contentless index: {_top(index_tables)}")
    print(f"  schema-3 index: {_top(legacy_tables)}")
    print(
        f"  store + index after compaction   {compacted:7.0f}"
        f"  ({compacted / per_span:.2f}x journal;"
        f" {compacted - indexed:+.0f} B/span; {compaction['steps']} steps, longest"
        f" {compaction['longest_step_ms']:.0f} ms, {compaction['us_per_body']:.0f} us/body)"
    )
    print(f"  per table, compacted: {_top(compacted_tables, 12)}")
    return {
        "spans": n,
        "journal_b_per_span": round(per_span, 1),
        "store_b_per_span": round(bare, 1),
        "store_index_b_per_span": round(indexed, 1),
        "store_legacy_index_b_per_span": round(legacy, 1),
        "ratio_to_journal": round(indexed / per_span, 3),
        "prune_s": round(prune_s, 3),
        "prune_delete_floor_s": round(prune_floor_s, 3),
        "legacy_ratio_to_journal": round(legacy / per_span, 3),
        "tables": {k: round(v, 1) for k, v in bare_tables.items() if v >= 1},
        "index_tables": {k: round(v, 1) for k, v in index_tables.items() if v >= 1},
        "legacy_index_tables": {k: round(v, 1) for k, v in legacy_tables.items() if v >= 1},
        "compacted_b_per_span": round(compacted, 1),
        "compacted_ratio_to_journal": round(compacted / per_span, 3),
        "compacted_tables": {k: round(v, 1) for k, v in compacted_tables.items() if v >= 1},
        "compaction": compaction,
    }


_STEP_MS = CollectorConfig().compact_step_ms  # the collector's bound on one step


def compact(path: Path) -> dict[str, Any]:
    """Compact the store as the idle collector does: one bounded step at a time until done."""
    with SQLiteStore.open(path) as store:
        steps, bodies, longest = 0, 0, 0.0
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            step = store.compact(steps=1, step_ms=_STEP_MS)
            longest = max(longest, time.perf_counter() - t)
            steps += 1
            bodies += step.bodies
            if step.done:
                break
        total = time.perf_counter() - start
    return {
        "steps": steps,
        "bodies": bodies,
        "seconds": round(total, 2),
        "us_per_body": round(total / max(bodies, 1) * 1e6, 1),
        "longest_step_ms": round(longest * 1000, 1),
    }


# -- search latency --------------------------------------------------------------------------


def build_search_store(home: Path, spans: int) -> int:
    store = SQLiteStore.open(home)
    batch: list[dict[str, Any]] = []
    n = 0
    for rec in _agentload.turns(spans, seed=5):
        batch.append(rec)
        if len(batch) >= 20_000:
            store.apply(items_from(batch, f"bench-{n}"))
            n += 1
            batch = []
    if batch:
        store.apply(items_from(batch, f"bench-{n}"))
    store.catch_up_search()
    count = store.totals().spans
    store.close()
    return count


QUERIES = [
    *(_agentload.VOCAB[r] for r in (0, 3, 30, 300, 3000, 20000)),
    f"{_agentload.VOCAB[1]} {_agentload.VOCAB[100]}",
    f"{_agentload.VOCAB[50]} {_agentload.VOCAB[5000]}",
    "gpt-4o",
    "4o-gpt",  # a phrase of common tokens that never occurs: every candidate is checked
    "lookup_order",
    "claude-sonnet-4",
    "refund",
    "nosuchwordanywhere",
]


def _time(fn: Any, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def search(spans: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orca-bench-search-") as d:
        home = Path(d)
        t = time.perf_counter()
        n = build_search_store(home, spans)
        print(f"search store: {n:,} spans in {time.perf_counter() - t:.0f}s (write API)")
        store = SQLiteStore.open(home)
        conn = sqlite3.connect(home / "store.sqlite", isolation_level=None)
        build_legacy_index(conn)
        old_s, new_s, same = [], [], 0
        for q in QUERIES:
            old = legacy_search(conn, q)
            new = [(h.trace_id, h.span_id, h.ts_ns, h.where, h.snippet) for h in store.search(q)]
            same += old == new
            old_s.append(_time(lambda q=q: legacy_search(conn, q)))
            new_s.append(_time(lambda q=q: store.search(q)))
        store.close()
        conn.close()
    p50_old, p50_new = statistics.median(old_s), statistics.median(new_s)
    print(
        f"orca search p50 over {len(QUERIES)} queries on {n:,} spans: "
        f"{p50_new * 1000:.1f} ms contentless vs {p50_old * 1000:.1f} ms schema-3 (baseline)"
        f" = {p50_new / p50_old:.2f}x (target <= 1x); max {max(new_s) * 1000:.0f} ms vs "
        f"{max(old_s) * 1000:.0f} ms; identical hits on {same}/{len(QUERIES)} queries"
    )
    return {
        "spans": n,
        "p50_ms": round(p50_new * 1000, 2),
        "legacy_p50_ms": round(p50_old * 1000, 2),
        "ratio": round(p50_new / p50_old, 3),
        "max_ms": round(max(new_s) * 1000, 1),
        "legacy_max_ms": round(max(old_s) * 1000, 1),
        "identical_queries": same,
        "queries": len(QUERIES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get("ORCA_BENCH_QUICK"))
    )
    args = parser.parse_args()
    byte_spans = 26_000 if args.quick else 130_000
    search_spans = int(os.environ.get("ORCA_BENCH_SPANS", "100000" if args.quick else "1000000"))
    out: dict[str, Any] = {"bench": "storage", "quick": args.quick}
    out["bytes"] = storage(byte_spans)
    out["search"] = search(search_spans)
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
