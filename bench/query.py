"""Query bench: skeleton of a 10,000-span trace among 1,000,000 spans, and `orca stats`.

Builds a store through its write API (``SQLiteStore.apply`` of record batches;
no journal, no collector), then measures in the same run:

* the bare ``SELECT`` of the big trace's span rows (the floor) against
  ``get_trace`` + ``skeleton`` + ``render_plain`` (target ≤ 3× the floor);
* ``orca stats`` over every span (target ≤ 2 s): the library call the CLI
  makes (``span_groups`` grouped in SQL, for every ``--by`` key and for a 1%
  window) beside the Python grouping of per-span tuples it replaced
  (``stats(span_stats())``, the baseline), and the CLI cold in a subprocess.

``ORCA_BENCH_SPANS`` scales the store (default 1,000,000); ``--quick`` = 100,000.
Ends with one line of JSON.
"""

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from orca.query import group_stats, render_plain, skeleton, stats
from orca.store import SQLiteStore, items_from
from orca.store._ids import key as stored_id

BIG_TRACE = 10_000
PER_TRACE = 10
NAMES = ["step", "provider.request", "tool-call", "prompt.assembly"]


def _tid(rng: random.Random, ms: int) -> str:
    return f"{ms & 0xFFFFFFFFFFFF:012x}{rng.getrandbits(80) | 1:020x}"


def _sid(rng: random.Random) -> str:
    return f"{rng.getrandbits(64) | 1:016x}"


def trace_records(rng: random.Random, t0: int, n: int) -> tuple[str, list[dict[str, Any]]]:
    """One trace of ``n`` spans: a turn, steps with requests, tool calls (realistic attrs)."""
    trace = _tid(rng, t0 // 1_000_000)
    root = _sid(rng)
    recs: list[dict[str, Any]] = []
    base = {"v": 1, "component": "bench", "trace": trace}
    recs.append(
        {
            **base,
            "kind": "span-open",
            "ts": t0,
            "span": root,
            "name": "turn",
            "attrs": {"gen_ai.conversation.id": f"c{rng.randrange(1000)}"},
        }
    )
    closes = []
    step = root
    for i in range(1, n):
        name = NAMES[i % 4]
        sid = _sid(rng)
        ts = t0 + i * 1000
        parent = root if name == "step" else step
        attrs: dict[str, Any] = {"gen_ai.request.model": f"model-{i % 3}", "i": i}
        if name == "tool-call":
            attrs["gen_ai.tool.name"] = f"tool{i % 7}"
        recs.append(
            {
                **base,
                "kind": "span-open",
                "ts": ts,
                "span": sid,
                "parent": parent,
                "name": name,
                "attrs": attrs,
            }
        )
        close: dict[str, Any] = {
            **base,
            "kind": "span-close",
            "ts": ts + 500 + rng.randrange(500),
            "span": sid,
            "status": "error" if i % 97 == 0 else "ok",
        }
        if name == "provider.request":
            close["attrs"] = {
                "gen_ai.usage.input_tokens": 800,
                "gen_ai.usage.output_tokens": 90,
                "orca.cost.usd": 0.002,
            }
        closes.append(close)
        if name == "step":
            step = sid
    recs.extend(closes)
    recs.append(
        {**base, "kind": "span-close", "ts": t0 + n * 1000 + 1, "span": root, "status": "ok"}
    )
    return trace, recs


def build(path: Path, total: int) -> tuple[str, float]:
    rng = random.Random(5)
    store = SQLiteStore.open(path)
    t0 = time.time_ns() - 3_600_000_000_000
    started = time.perf_counter()
    big = ""
    batch: list[dict[str, Any]] = []
    made = 0
    n_batch = 0
    while made < total:
        if made == total // 2 and not big:
            big, recs = trace_records(rng, t0 + made * 1000, BIG_TRACE)
            made += BIG_TRACE
        else:
            _, recs = trace_records(rng, t0 + made * 1000, PER_TRACE)
            made += PER_TRACE
        batch.extend(recs)
        if len(batch) >= 20_000:
            store.apply(items_from(batch, f"bench-{n_batch}"))
            n_batch += 1
            batch = []
    if batch:
        store.apply(items_from(batch, f"bench-{n_batch}"))
    store.close()
    return big, time.perf_counter() - started


def best(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    total = int(
        os.environ.get("ORCA_BENCH_SPANS", "100000" if "--quick" in sys.argv else "1000000")
    )
    with tempfile.TemporaryDirectory(prefix="orca-bench-query-") as d:
        home = Path(d)
        big, build_s = build(home, total)
        print(f"built store: {total:,} spans in {build_s:.1f}s (write API)")
        raw = sqlite3.connect(home / "store.sqlite")
        store = SQLiteStore.open(home)
        stored = stored_id(big)  # the id as the spans table holds it (hex ids are blobs)
        n_rows = len(raw.execute("SELECT * FROM spans WHERE trace_id = ?", (stored,)).fetchall())
        if n_rows == 0:  # a floor over no rows would make any skeleton look slow
            sys.exit(f"bench/query.py: the bare SELECT found no span of trace {big}")
        floor = best(
            lambda: raw.execute("SELECT * FROM spans WHERE trace_id = ?", (stored,)).fetchall()
        )

        def skel() -> None:
            rows = store.get_trace(big)
            assert rows is not None
            render_plain(skeleton(rows))

        skel_s = best(skel)
        python_s = best(lambda: stats(store.span_stats(group_by="name")), runs=3)
        by_key = {
            by: best(lambda by=by: group_stats(store.span_groups(group_by=by)), runs=3)
            for by in ("name", "model", "component", "tool")
        }
        stats_s = by_key["name"]
        sql_rows = group_stats(store.span_groups(group_by="name"))
        py_rows = stats(store.span_stats(group_by="name"))
        assert [(r.key, r.count, r.p50_ns, r.p95_ns) for r in sql_rows] == [
            (r.key, r.count, r.p50_ns, r.p95_ns) for r in py_rows
        ], "SQL and Python stats disagree"
        lo, hi = raw.execute("SELECT min(start_ns), max(start_ns) FROM spans").fetchone()
        recent = hi - (hi - lo) // 100  # the newest 1% of the store's time range
        window_s = best(lambda: group_stats(store.span_groups(since_ns=recent)), runs=3)
        cli_s = []
        for by in ("name", "model"):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "orca", "stats", "--by", by, "--home", str(home)],
                capture_output=True,
                check=True,
            )
            cli_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orca", "--help"], capture_output=True, check=True)
        startup_s = time.perf_counter() - t
        store.close()
        raw.close()
    ratio = skel_s / floor
    print(f"bare SELECT of the {n_rows:,}-span trace: {floor * 1000:.1f} ms (floor)")
    print(
        f"skeleton (get_trace + skeleton + render): {skel_s * 1000:.1f} ms"
        f" = {ratio:.2f}× floor (target ≤ 3×)"
    )
    print(
        f"stats over {total:,} spans (--by name): {stats_s:.2f} s library (SQL grouping)"
        f" vs {python_s:.2f} s Python grouping (baseline) = {python_s / stats_s:.1f}× faster"
    )
    print("  by key: " + ", ".join(f"{k} {v:.2f} s" for k, v in by_key.items()))
    print(f"  newest 1% window: {window_s * 1000:.0f} ms")
    print(
        f"  CLI cold (subprocess): --by name {cli_s[0]:.2f} s, --by model {cli_s[1]:.2f} s"
        f" (`orca --help` alone: {startup_s:.2f} s) (target ≤ 2 s)"
    )
    print(
        json.dumps(
            {
                "bench": "query",
                "spans": total,
                "trace_spans": n_rows,
                "build_s": round(build_s, 2),
                "select_ms": round(floor * 1000, 2),
                "skeleton_ms": round(skel_s * 1000, 2),
                "skeleton_ratio": round(ratio, 2),
                "stats_s": round(stats_s, 3),
                "stats_python_s": round(python_s, 3),
                "stats_speedup": round(python_s / stats_s, 2),
                "stats_by_key_s": {k: round(v, 3) for k, v in by_key.items()},
                "stats_window_1pct_s": round(window_s, 4),
                "stats_cli_s": round(max(cli_s), 3),
                "cli_startup_s": round(startup_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
