"""PostgreSQL store bench: many collectors into one database, and the skeleton read.

Each figure is printed beside a baseline measured in the same run, on a
throwaway cluster (``orca.testing.postgres_cluster``; skipped with a message
when no PostgreSQL server binaries are installed):

* ingest: four homes each get the same-shaped journal (``bench/collector.py``'s
  realistic mix, different seeds). Baseline: one SQLite collector draining
  them one home after another (records/s). Against it: one PostgreSQL
  collector draining one home, and four ``orca collect --once`` processes
  draining the four homes into one database at once (records/s over the wall
  time). Target: four PostgreSQL collectors ≥ 1.5× one SQLite collector.
* skeleton: a 10,000-span trace among 1,000,000 spans (``bench/query.py``'s
  traces) written through ``PostgresStore.apply``; ``get_trace`` + ``skeleton``
  + ``render_plain`` against the bare ``SELECT`` of the trace's span rows.
  Target: ≤ 3× the bare SELECT.

``--quick`` (or ORCA_BENCH_QUICK=1) runs a tenth of the sizes. The last line is JSON.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parent))

from collector import write_mixed_journal
from orca.collector import Collector, CollectorConfig
from orca.query import render_plain, skeleton
from orca.store import STORE_ENV, items_from, open_store
from orca.testing import postgres_bin, postgres_cluster
from query import BIG_TRACE, PER_TRACE, trace_records


def _homes(root: Path, n: int, records: int) -> list[Path]:
    homes = []
    for i in range(n):
        home = root / f"home{i}"
        write_mixed_journal(home, records, seed=i + 1)
        homes.append(home)
    return homes


def _copy_journals(homes: list[Path], root: Path) -> list[Path]:
    import shutil

    out = []
    for home in homes:
        dst = root / home.name
        shutil.copytree(home / "journal", dst / "journal")
        out.append(dst)
    return out


def _drain(home: Path) -> int:
    cfg = CollectorConfig(journal_retention=None, retention=None)
    with Collector(home, cfg) as c:
        return c.drain().records


def sqlite_rate(homes: list[Path]) -> float:
    os.environ.pop(STORE_ENV, None)
    t = time.perf_counter()
    n = sum(_drain(h) for h in homes)
    return n / (time.perf_counter() - t)


def pg_one(home: Path, url: str) -> float:
    os.environ[STORE_ENV] = url
    try:
        t = time.perf_counter()
        n = _drain(home)
        return n / (time.perf_counter() - t)
    finally:
        del os.environ[STORE_ENV]


def pg_many(homes: list[Path], url: str, records: int) -> float:
    env = {**os.environ, STORE_ENV: url}
    t = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "orca", "collect", "--once", "--home", str(h)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for h in homes
    ]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a PostgreSQL collector failed")
    return len(homes) * records / (time.perf_counter() - t)


def best(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def skeleton_ratio(url: str, total: int) -> dict[str, Any]:
    import psycopg

    rng = random.Random(5)
    store = open_store(url)
    t0 = time.time_ns() - 3_600_000_000_000
    big, batch, made, n = "", [], 0, 0
    while made < total:
        if made >= total // 2 and not big:
            big, recs = trace_records(rng, t0 + made * 1000, BIG_TRACE)
            made += BIG_TRACE
        else:
            _, recs = trace_records(rng, t0 + made * 1000, PER_TRACE)
            made += PER_TRACE
        batch.extend(recs)
        if len(batch) >= 20_000:
            store.apply(items_from(batch, f"bench-{n}"))
            n, batch = n + 1, []
    if batch:
        store.apply(items_from(batch, f"bench-{n}"))
    with psycopg.connect(url) as raw:
        raw.execute("ANALYZE")
        sql = "SELECT * FROM spans WHERE trace_id = %s"
        rows = len(raw.execute(sql, (big,)).fetchall())
        floor = best(lambda: raw.execute(sql, (big,)).fetchall())

    def skel() -> None:
        got = store.get_trace(big)
        assert got is not None
        render_plain(skeleton(got))

    skel_s = best(skel)
    store.close()
    return {
        "spans": total,
        "trace_spans": rows,
        "floor_ms": floor * 1000,
        "skeleton_ms": skel_s * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get("ORCA_BENCH_QUICK"))
    )
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    out: dict[str, Any] = {"bench": "store_pg", "quick": args.quick}
    if postgres_bin() is None:
        print("skipped: no PostgreSQL server binaries (apt-get install postgresql)")
        out["skipped"] = "no PostgreSQL server binaries"
        print(orjson.dumps(out).decode())
        return
    records = 200_000 // scale
    with tempfile.TemporaryDirectory(prefix="orca-bench-pg-") as d, postgres_cluster() as pg:
        root = Path(d)
        homes = _homes(root / "src", 4, records)
        base = sqlite_rate(_copy_journals(homes, root / "sqlite"))
        print(f"SQLite, 1 collector over 4 homes: {base:,.0f} records/s (baseline)")
        one = pg_one(_copy_journals(homes[:1], root / "pg1")[0], pg.create_database("one"))
        print(f"PostgreSQL, 1 collector: {one:,.0f} records/s ({one / base:.2f}x)")
        many = pg_many(_copy_journals(homes, root / "pg4"), pg.create_database("many"), records)
        print(
            f"PostgreSQL, 4 collectors at once: {many:,.0f} records/s ({many / base:.2f}x;"
            " target >= 1.5x)"
        )
        sk = skeleton_ratio(pg.create_database("skel"), 1_000_000 // scale)
        ratio = sk["skeleton_ms"] / sk["floor_ms"]
        print(
            f"bare SELECT of the {sk['trace_spans']:,}-span trace among {sk['spans']:,}:"
            f" {sk['floor_ms']:.1f} ms (floor); skeleton {sk['skeleton_ms']:.1f} ms"
            f" ({ratio:.2f}x; target <= 3x)"
        )
        out.update(
            records_per_home=records,
            sqlite_one=round(base),
            pg_one=round(one),
            pg_four=round(many),
            pg_four_ratio=round(many / base, 2),
            skeleton_floor_ms=round(sk["floor_ms"], 2),
            skeleton_ms=round(sk["skeleton_ms"], 2),
            skeleton_ratio=round(ratio, 2),
        )
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
