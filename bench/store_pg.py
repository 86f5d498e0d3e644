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
  Every journal is written before any timing starts, and each figure comes
  with the CPU seconds per record it cost — the collector (client) and, for
  PostgreSQL, the server processes — so the reader can see the ceiling. One
  SQLite collector is one process: at most one core, 1 / its CPU per record.
  Collectors and server sharing N cores reach at most N / (client + server CPU
  per record). The best ratio this machine allows is the quotient of the two,
  whatever else loads it: N × SQLite's CPU/record ÷ PostgreSQL's.
* skeleton: a 10,000-span trace among 1,000,000 spans (``bench/query.py``'s
  traces) written through ``PostgresStore.apply``; ``get_trace`` + ``skeleton``
  + ``render_plain`` against the bare ``SELECT`` of the trace's span rows.
  Target: ≤ 3× the bare SELECT.

Sizes: ``--quick`` (or ORCA_BENCH_QUICK=1) 20,000 records a home and 100,000 spans;
the default 50,000 and 300,000; ``--full`` 200,000 and the issue's 1,000,000 spans.
The last line is JSON.
"""

import argparse
import os
import random
import resource
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
from orca.testing import PostgresCluster, postgres_bin, postgres_cluster
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


class Rate:
    """Records/s over the wall time, and CPU seconds per record on each side."""

    def __init__(self, records: int, wall_s: float, client_s: float, server_s: float = 0.0):
        self.records = records
        self.per_s = records / wall_s
        self.client_us = client_s / records * 1e6
        self.server_us = server_s / records * 1e6

    def cpu(self) -> str:
        server = f" + server {self.server_us:.1f}" if self.server_us else ""
        return f"CPU/record: client {self.client_us:.1f}{server} us"


def server_cpu_s(pg: PostgresCluster) -> float:
    """CPU seconds of the cluster's processes so far (exited backends count in the postmaster)."""
    pidfile = pg.socket_dir.parent / "data" / "postmaster.pid"
    postmaster = int(pidfile.read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid == postmaster or int(fields[1]) == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _drain(home: Path) -> int:
    cfg = CollectorConfig(journal_retention=None, retention=None)
    with Collector(home, cfg) as c:
        return c.drain().records


def sqlite_rate(homes: list[Path]) -> Rate:
    os.environ.pop(STORE_ENV, None)
    cpu, t = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    n = sum(_drain(h) for h in homes)
    return Rate(n, time.perf_counter() - t, _cpu(resource.RUSAGE_SELF) - cpu)


def pg_one(home: Path, url: str, pg: PostgresCluster) -> Rate:
    os.environ[STORE_ENV] = url
    open_store(url).close()  # the schema exists before the clock starts, as on a live database
    try:
        server, cpu = server_cpu_s(pg), _cpu(resource.RUSAGE_SELF)
        t = time.perf_counter()
        n = _drain(home)
        wall = time.perf_counter() - t
        client = _cpu(resource.RUSAGE_SELF) - cpu
        return Rate(n, wall, client, server_cpu_s(pg) - server)
    finally:
        del os.environ[STORE_ENV]


def pg_many(homes: list[Path], url: str, records: int, pg: PostgresCluster) -> Rate:
    """Four real `orca collect --once` processes, one per home, started together."""
    env = {**os.environ, STORE_ENV: url}
    open_store(url).close()  # the schema exists before the clock starts, as on a live database
    server, cpu = server_cpu_s(pg), _cpu(resource.RUSAGE_CHILDREN)
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
    wall = time.perf_counter() - t
    client = _cpu(resource.RUSAGE_CHILDREN) - cpu
    return Rate(len(homes) * records, wall, client, server_cpu_s(pg) - server)


def startup_cpu_s(url: str, root: Path) -> float:
    """CPU seconds of one `orca collect --once` with nothing to ingest: process start-up."""
    empty = root / "empty"
    empty.mkdir()
    open_store(url).close()  # as for the four: the schema is there already
    cpu = _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "orca", "collect", "--once", "--home", str(empty)],
        env={**os.environ, STORE_ENV: url},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return _cpu(resource.RUSAGE_CHILDREN) - cpu


def best(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)  # the least disturbed run: other jobs share these cores


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
    parser.add_argument("--full", action="store_true", help="1,000,000 spans (the issue's size)")
    args = parser.parse_args()
    records, spans = (200_000, 1_000_000) if args.full else (50_000, 300_000)
    if args.quick and not args.full:
        records, spans = 20_000, 100_000
    out: dict[str, Any] = {"bench": "store_pg", "quick": args.quick, "full": args.full}
    if postgres_bin() is None:
        print("skipped: no PostgreSQL server binaries (apt-get install postgresql)")
        out["skipped"] = "no PostgreSQL server binaries"
        print(orjson.dumps(out).decode())
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="orca-bench-pg-") as d, postgres_cluster() as pg:
        root = Path(d)
        homes = _homes(root / "src", 4, records)  # every journal written before any timing
        base = sqlite_rate(_copy_journals(homes, root / "sqlite"))
        print(
            f"SQLite, 1 collector over 4 homes: {base.per_s:,.0f} records/s (baseline);"
            f" {base.cpu()}"
        )
        one = pg_one(_copy_journals(homes[:1], root / "pg1")[0], pg.create_database("one"), pg)
        print(
            f"PostgreSQL, 1 collector: {one.per_s:,.0f} records/s"
            f" ({one.per_s / base.per_s:.2f}x); {one.cpu()}"
        )
        many = pg_many(_copy_journals(homes, root / "pg4"), pg.create_database("many"), records, pg)
        print(
            f"PostgreSQL, 4 collectors at once: {many.per_s:,.0f} records/s"
            f" ({many.per_s / base.per_s:.2f}x; target >= 1.5x); {many.cpu()}"
        )
        start_us = startup_cpu_s(pg.create_database("idle"), root) * 4 / many.records * 1e6
        print(f"  of the client CPU/record, start-up of the 4 processes: {start_us:.1f} us")
        cores = os.cpu_count() or 1
        pg_us = many.client_us + many.server_us
        ceiling = cores * base.client_us / pg_us
        steady = cores * base.client_us / (pg_us - start_us)
        print(
            f"CPU-bound ceiling of the ratio on {cores} shared cores: {ceiling:.2f}x"
            f" ({steady:.2f}x without process start-up; target 1.5x)"
        )
        sk = skeleton_ratio(pg.create_database("skel"), spans)
        ratio = sk["skeleton_ms"] / sk["floor_ms"]
        print(
            f"bare SELECT of the {sk['trace_spans']:,}-span trace among {sk['spans']:,}:"
            f" {sk['floor_ms']:.1f} ms (floor); skeleton {sk['skeleton_ms']:.1f} ms"
            f" ({ratio:.2f}x; target <= 3x)"
        )
        out.update(
            load_average=round(os.getloadavg()[0], 2),
            records_per_home=records,
            sqlite_one=round(base.per_s),
            sqlite_cpu_us=round(base.client_us, 1),
            pg_one=round(one.per_s),
            pg_one_client_cpu_us=round(one.client_us, 1),
            pg_one_server_cpu_us=round(one.server_us, 1),
            pg_four=round(many.per_s),
            pg_four_ratio=round(many.per_s / base.per_s, 2),
            pg_four_client_cpu_us=round(many.client_us, 1),
            pg_four_server_cpu_us=round(many.server_us, 1),
            pg_four_startup_cpu_us=round(start_us, 1),
            pg_four_ceiling_ratio=round(ceiling, 2),
            pg_four_ceiling_ratio_steady=round(steady, 2),
            skeleton_spans=sk["spans"],
            skeleton_floor_ms=round(sk["floor_ms"], 2),
            skeleton_ms=round(sk["skeleton_ms"], 2),
            skeleton_ratio=round(ratio, 2),
        )
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
