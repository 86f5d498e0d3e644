"""Collector bench: ingest throughput, write-to-visible lag, and bytes per span on disk.

Each figure is printed beside a baseline measured in the same run:

* ingest: records/s of ``Collector.drain()`` over a pre-written journal of
  1,000,000 records (spans with 5–10 attributes, logs, 5% carrying 2–20 KB
  bodies of which most repeat), beside the floor: the same logical work done
  the simplest fast way (``floor_ingest``): a reader thread parses the next
  batch while the last is committed, the collector's batch size, bodies
  stored once by sha256, a span's open and close one row, no indexes.
  Target: ≥ 0.5× the floor.
* lag: a writer process makes 10,000 spans/s for 20 s while ``orca collect``
  runs; a poller records when each span becomes visible. Target: p99 ≤ 1 s.
* de-dup: agent-shaped conversations (13 spans per turn, a ~2 KB prompt on each
  LLM span, prompts growing by one message per turn); bytes on disk vs the sum
  of body sizes, and bytes per span beside the baseline: the same journal in
  the floor's tables with each body kept verbatim in its span's row, as a
  tracer without content addressing stores it. Target: ≤ 0.5× the baseline.

``--quick`` (or ORCA_BENCH_QUICK=1) runs a tenth of the sizes. The last line is JSON.
"""

import argparse
import hashlib
import os
import queue
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from orca.collector import Collector, CollectorConfig
from orca.journal import JournalReader, JournalSink, list_segments

WORDS = [
    "".join(
        random.Random(i).choices("abcdefghijklmnopqrstuvwxyz", k=random.Random(-i).randint(2, 9))
    )
    for i in range(3000)
]


def text(rng: random.Random, nbytes: int) -> str:
    out: list[str] = []
    size = 0
    while size < nbytes:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def hexid(rng: random.Random, ms: int, n: int) -> str:
    if n == 32:
        return f"{ms & 0xFFFFFFFFFFFF:012x}{rng.getrandbits(80) | 1:020x}"
    # As orca.capture makes them: 8 bits of coarse time (ns >> 34), then 56 random bits.
    return f"{(((ms * 10**6 >> 34) & 0xFF) << 56 | rng.getrandbits(56)) | 1:016x}"


# -- the ingest journal ----------------------------------------------------------------


def write_mixed_journal(home: Path, records: int, seed: int = 1) -> int:
    """Write ``records`` records of a realistic mix; returns how many were written."""
    rng = random.Random(seed)
    bodies = [text(rng, rng.randint(2_000, 20_000)) for _ in range(40)]
    sink = JournalSink(home / "journal", heartbeat_s=None, on_exit=False)
    ts = time.time_ns() - 3600 * 10**9
    written = 1  # the sink's start record
    models = ["gpt-4o", "claude-3-5", "llama-70b"]
    tools = ["search", "lookup_order", "refund", "send_email"]
    while written < records - 1:
        ts += 1_000_000
        trace = hexid(rng, ts // 10**6, 32)
        root = hexid(rng, ts // 10**6, 16)
        stack = [root]
        sink.emit(
            {
                "v": 1,
                "kind": "span-open",
                "ts": ts,
                "component": "agent",
                "trace": trace,
                "span": root,
                "name": "turn",
                "attrs": {
                    "gen_ai.conversation.id": f"c{rng.randint(1, 500)}",
                    "gen_ai.agent.name": "support",
                    "orca.turn.index": rng.randint(0, 30),
                    "user.tier": rng.choice(["free", "pro"]),
                    "orca.region": "eu",
                },
            }
        )
        written += 1
        for _ in range(6):
            ts += 1000
            span = hexid(rng, ts // 10**6, 16)
            llm = rng.random() < 0.5
            attrs: dict[str, Any] = {
                "gen_ai.operation.name": "chat" if llm else "execute_tool",
                "orca.attempt": 1,
                "orca.step": rng.randint(0, 9),
                "orca.flag": rng.random() < 0.5,
                "orca.latency_budget_ms": 2500.0,
            }
            if llm:
                attrs["gen_ai.request.model"] = rng.choice(models)
                attrs["gen_ai.provider.name"] = "acme"
            else:
                attrs["gen_ai.tool.name"] = rng.choice(tools)
                attrs["gen_ai.tool.call.id"] = f"call_{rng.getrandbits(32):x}"
            rec: dict[str, Any] = {
                "v": 1,
                "kind": "span-open",
                "ts": ts,
                "component": "agent",
                "trace": trace,
                "span": span,
                "parent": root,
                "name": "step" if llm else "tool-call",
                "attrs": attrs,
            }
            if rng.random() < 0.10:  # ~5% of all records carry a body
                rec["body"] = rng.choice(bodies)
            sink.emit(rec)
            if rng.random() < 0.5:
                sink.emit(
                    {
                        "v": 1,
                        "kind": "log",
                        "ts": ts + 10,
                        "component": "agent",
                        "level": "info",
                        "msg": f"calling {attrs.get('gen_ai.tool.name', 'model')}",
                        "trace": trace,
                        "span": span,
                        "attrs": {"n": rng.randint(0, 100)},
                    }
                )
                written += 1
            ts += rng.randint(10_000, 5_000_000)
            close: dict[str, Any] = {
                "v": 1,
                "kind": "span-close",
                "ts": ts,
                "component": "agent",
                "trace": trace,
                "span": span,
                "status": "ok" if rng.random() < 0.97 else "error",
            }
            if llm:
                close["attrs"] = {
                    **attrs,
                    "gen_ai.usage.input_tokens": rng.randint(100, 4000),
                    "gen_ai.usage.output_tokens": rng.randint(10, 500),
                    "orca.cost.usd": rng.random() / 100,
                }
            sink.emit(close)
            written += 2
        sink.emit(
            {
                "v": 1,
                "kind": "span-close",
                "ts": ts + 1,
                "component": "agent",
                "trace": trace,
                "span": root,
                "status": "ok",
            }
        )
        written += 1
        del stack
    sink.close()
    return written + 1


FLOOR_FILE = "floor.sqlite"
FLOOR_SCHEMA = (
    "CREATE TABLE offsets (segment TEXT PRIMARY KEY, offset INTEGER NOT NULL)",
    "CREATE TABLE bodies (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE spans (span TEXT PRIMARY KEY, trace TEXT, parent TEXT, name TEXT,"
    " start_ns INTEGER, end_ns INTEGER, status TEXT, attrs TEXT, request_body TEXT,"
    " response_body TEXT)",
    "CREATE TABLE logs (id INTEGER PRIMARY KEY, ts INTEGER, kind TEXT, trace TEXT, span TEXT,"
    " msg TEXT, attrs TEXT)",
)
FLOOR_OPEN = "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A close whose open was committed in an earlier batch: the same row, finished.
FLOOR_CLOSE = (
    "INSERT INTO spans (span, trace, end_ns, status, attrs, response_body)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (span) DO UPDATE SET end_ns = excluded.end_ns,"
    " status = excluded.status, attrs = coalesce(excluded.attrs, spans.attrs),"
    " response_body = excluded.response_body"
)


class FloorBatch(NamedTuple):
    """One transaction's rows, built by the reader thread."""

    records: int
    offsets: dict[str, int]
    bodies: list[tuple[str, bytes]]  # only bodies not seen before: each is stored once
    opens: list[list[Any]]  # span rows; a close in the same batch is merged into its open
    closes: list[tuple[Any, ...]]  # closes of spans opened in an earlier batch
    logs: list[tuple[Any, ...]]


def floor_batches(home: Path, batch: int, verbatim: bool = False) -> Iterator[FloorBatch]:
    """Read, parse and shape the journal into ``batch``-record transactions of rows.

    ``verbatim`` keeps each body in its span's row, as a tracer without
    content addressing does (the de-dup baseline), instead of by sha256.
    """
    seen: set[str] = set()

    def body_ref(rec: dict[str, Any], new: list[tuple[str, bytes]]) -> str | None:
        body = rec.get("body")
        if body is None or verbatim:
            return body
        data = body.encode()
        key = hashlib.sha256(data).hexdigest()
        if key not in seen:
            seen.add(key)
            new.append((key, data))
        return key

    def empty() -> FloorBatch:
        return FloorBatch(0, {}, [], [], [], [])

    def done(b: FloorBatch, records: int) -> FloorBatch:
        for row in b.opens:  # attrs are final once the batch is: serialise here, off the writer
            if row[7] is not None:
                row[7] = orjson.dumps(row[7]).decode()
        return b._replace(records=records)

    out = empty()
    opened: dict[str, list[Any]] = {}
    n = 0
    for _, path in list_segments(home / "journal"):
        with path.open("rb") as f:
            for line in JournalReader(f).lines():
                rec = orjson.loads(line.data)
                n += 1
                kind = rec["kind"]
                attrs = rec.get("attrs")
                if kind == "span-open":
                    row = [
                        rec["span"],
                        rec["trace"],
                        rec.get("parent"),
                        rec["name"],
                        rec["ts"],
                        None,
                        "unfinished",
                        attrs,
                        body_ref(rec, out.bodies),
                        None,
                    ]
                    opened[rec["span"]] = row
                    out.opens.append(row)
                elif kind == "span-close":
                    row = opened.pop(rec["span"], None)
                    response = body_ref(rec, out.bodies)
                    if row is not None:  # opened in this batch: one row, written once
                        row[5], row[6], row[9] = rec["ts"], rec["status"], response
                        if attrs:
                            row[7] = {**(row[7] or {}), **attrs}
                    else:
                        dumped = orjson.dumps(attrs).decode() if attrs else None
                        out.closes.append(
                            (rec["span"], rec["trace"], rec["ts"], rec["status"], dumped, response)
                        )
                else:
                    out.logs.append(
                        (
                            None,
                            rec["ts"],
                            kind,
                            rec.get("trace"),
                            rec.get("span"),
                            rec.get("msg"),
                            orjson.dumps(attrs).decode() if attrs else None,
                        )
                    )
                out.offsets[path.name] = line.end
                if n % batch == 0:
                    yield done(out, batch)
                    out, opened = empty(), {}
    if n % batch:
        yield done(out, n % batch)


def floor_write(conn: sqlite3.Connection, b: FloorBatch) -> None:
    """One transaction: bodies once each, merged span rows, finishing closes, logs, offsets."""
    conn.execute("BEGIN")
    conn.executemany("INSERT OR IGNORE INTO bodies VALUES (?, ?)", b.bodies)
    conn.executemany(FLOOR_OPEN, b.opens)
    conn.executemany(FLOOR_CLOSE, b.closes)
    conn.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", b.logs)
    conn.executemany(
        "INSERT INTO offsets VALUES (?, ?) ON CONFLICT (segment) DO UPDATE"
        " SET offset = excluded.offset",
        list(b.offsets.items()),
    )
    conn.execute("COMMIT")


def floor_ingest(home: Path, batch: int, verbatim: bool = False) -> tuple[int, float]:
    """The same logical work done the simplest fast way, pipelined like the collector.

    A reader thread reads, parses and shapes the next ``batch`` records while
    this thread commits the previous ones (SQLite lets go of the GIL while it
    writes): bodies content-addressed by sha256 and stored once, a span's
    open and close one row, logs, and the journal offsets, in one transaction
    per batch. What it leaves out is what makes the store a store: indexes,
    traces and processes, compression, search, crash handling.
    """
    db = home / FLOOR_FILE
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for ddl in FLOOR_SCHEMA:
        conn.execute(ddl)
    ahead: queue.Queue[FloorBatch | None] = queue.Queue(maxsize=1)

    def read() -> None:
        try:
            for b in floor_batches(home, batch, verbatim):
                ahead.put(b)
        finally:
            ahead.put(None)

    n = 0
    start = time.perf_counter()
    reader = threading.Thread(target=read, name="floor-read")
    reader.start()
    while (b := ahead.get()) is not None:
        floor_write(conn, b)
        n += b.records
    reader.join()
    elapsed = time.perf_counter() - start
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return n, elapsed


def collector_ingest(home: Path) -> tuple[int, float, float]:
    config = CollectorConfig(search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9)
    start = time.perf_counter()
    with Collector(home, config) as c:
        done = c.drain()
        elapsed = time.perf_counter() - start
        t = time.perf_counter()
        c.store.catch_up_search()
        search_s = time.perf_counter() - t
    return done.records, elapsed, search_s


# -- lag ------------------------------------------------------------------------------------

WRITER = """
import sys, time
import orca
rec = orca.Recorder.open(sys.argv[1])
log = rec.logger("lag")
rate, seconds = int(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
n = 0
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
    due = int(elapsed * rate)
    while n < due:
        log.span("s").end()
        n += 1
    time.sleep(0.001)
rec.close()
print(n)
"""


def lag(home: Path, rate: int, seconds: float) -> dict[str, float]:
    collector = subprocess.Popen(
        [sys.executable, "-m", "orca", "collect", "--home", str(home)],
        stdout=subprocess.DEVNULL,
    )
    try:
        while not (home / "store.sqlite").exists():
            time.sleep(0.01)
        time.sleep(0.2)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(rate), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        conn = sqlite3.connect(home / "store.sqlite", timeout=30)
        delays: list[int] = []
        last = 0
        while True:
            done = writer.poll() is not None
            now = time.time_ns()
            rows = conn.execute(
                "SELECT id, start_ns FROM spans WHERE id > ? ORDER BY id", (last,)
            ).fetchall()
            if rows:
                last = rows[-1][0]
                delays.extend(now - start for _, start in rows)
            if done and not rows and len(delays) >= expected(writer):
                break
            time.sleep(0.01)
        conn.close()
    finally:
        collector.terminate()
        collector.wait()
    delays.sort()
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] / 1e9  # noqa: E731
    return {
        "spans": len(delays),
        "p50_s": pick(0.50),
        "p99_s": pick(0.99),
        "max_s": delays[-1] / 1e9,
    }


_expected: dict[int, int] = {}


def expected(writer: "subprocess.Popen[str]") -> int:
    if writer.pid not in _expected:
        assert writer.stdout is not None
        _expected[writer.pid] = int(writer.stdout.read().strip() or 0)
    return _expected[writer.pid]


# -- de-dup -----------------------------------------------------------------------------------


def write_conversations(home: Path, conversations: int, turns: int, seed: int = 2) -> int:
    """Agent-shaped turns: 13 spans each, 4 LLM spans with a ~2 KB prompt that grows per turn."""
    rng = random.Random(seed)
    system = text(rng, 700)
    sink = JournalSink(home / "journal", heartbeat_s=None, on_exit=False)
    ts = time.time_ns() - 3600 * 10**9
    body_bytes = 0
    for c in range(conversations):
        history: list[str] = []
        for t in range(turns):
            history.append("user: " + text(rng, 120))
            ts += 10**6
            trace = hexid(rng, ts // 10**6, 32)
            root = hexid(rng, ts // 10**6, 16)
            opened = [(root, "turn", None)]
            for k in range(12):
                opened.append(
                    (
                        hexid(rng, ts // 10**6, 16),
                        ["step", "tool-call", "prompt.assembly"][k % 3],
                        root,
                    )
                )
            for span, name, parent in opened:
                ts += 1000
                attrs: dict[str, Any] = {
                    "gen_ai.conversation.id": f"conv-{c}",
                    "orca.turn": t,
                    "gen_ai.agent.name": "support",
                    "orca.k": name,
                }
                rec: dict[str, Any] = {
                    "v": 1,
                    "kind": "span-open",
                    "ts": ts,
                    "component": "agent",
                    "trace": trace,
                    "span": span,
                    "name": name,
                    "attrs": attrs,
                }
                if parent:
                    rec["parent"] = parent
                if name == "step":
                    attrs["gen_ai.request.model"] = "gpt-4o"
                    # system prompt + the latest messages that fit in ~2 KB
                    convo = "\n".join(history[-8:])
                    prompt = (system + "\n" + convo)[-2048:]
                    rec["body"] = prompt
                    body_bytes += len(prompt.encode())
                    history.append("tool: " + text(rng, 100))  # the agent loop grows the prompt
                sink.emit(rec)
            for span, name, _ in reversed(opened):
                ts += 1000
                close: dict[str, Any] = {
                    "v": 1,
                    "kind": "span-close",
                    "ts": ts,
                    "component": "agent",
                    "trace": trace,
                    "span": span,
                    "status": "ok",
                }
                if name == "step":
                    answer = "assistant: " + text(rng, 150)
                    close["body"] = answer
                    close["attrs"] = {
                        "gen_ai.usage.input_tokens": 500,
                        "gen_ai.usage.output_tokens": 40,
                    }
                    body_bytes += len(answer.encode())
                sink.emit(close)
            history.append("assistant: " + text(rng, 150))
    sink.close()
    return body_bytes


def dedup(home: Path) -> dict[str, float]:
    """Bytes on disk of the store and of the verbatim baseline, over the same journal."""
    config = CollectorConfig(search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9)
    floor_ingest(home, config.batch, verbatim=True)
    verbatim = (home / FLOOR_FILE).stat().st_size
    with Collector(home, config) as c:
        c.drain()
        totals = c.store.totals()
    with sqlite3.connect(home / "store.sqlite") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = (home / "store.sqlite").stat().st_size
    with sqlite3.connect(home / "store.sqlite") as conn:
        conn.execute("VACUUM")
    vacuumed = (home / "store.sqlite").stat().st_size
    return {
        "spans": totals.spans,
        "body_bytes": totals.body_referenced_bytes,
        "body_stored_bytes": totals.body_stored_bytes,
        "store_bytes": size,
        "store_bytes_vacuumed": vacuumed,
        "bytes_per_span": size / totals.spans,
        "bytes_per_span_vacuumed": vacuumed / totals.spans,
        "body_ratio": totals.body_referenced_bytes / max(totals.body_stored_bytes, 1),
        "verbatim_bytes": verbatim,
        "verbatim_bytes_per_span": verbatim / totals.spans,
        "ratio_to_verbatim": size / verbatim,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get("ORCA_BENCH_QUICK"))
    )
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    records = 1_000_000 // scale
    lag_seconds = 20 / (2 if args.quick else 1)
    out: dict[str, Any] = {"bench": "collector", "quick": args.quick}

    with tempfile.TemporaryDirectory(prefix="orca-bench-") as d:
        home = Path(d)
        t = time.perf_counter()
        n = write_mixed_journal(home, records)
        print(f"wrote {n:,} records in {time.perf_counter() - t:.1f}s")
        batch = CollectorConfig().batch
        fn, fs = floor_ingest(home, batch)
        floor_rate = fn / fs
        print(
            f"floor (pipelined read + parse beside {batch:,}-record transactions, bodies once"
            f" by sha256, open+close one row, no indexes): {floor_rate:,.0f} records/s"
        )
        cn, cs, search_s = collector_ingest(home)
        rate = cn / cs
        print(
            f"collector drain into the store: {rate:,.0f} records/s"
            f"  ({rate / floor_rate:.2f}x the floor; target >= 0.5x)"
        )
        print(f"search index catch-up afterwards: {search_s:.1f}s for {cn:,} records")
        out["ingest"] = {
            "records": cn,
            "records_per_s": round(rate),
            "floor_records_per_s": round(floor_rate),
            "floor_batch": batch,
            "ratio_to_floor": round(rate / floor_rate, 3),
            "search_catch_up_s": round(search_s, 2),
        }

    with tempfile.TemporaryDirectory(prefix="orca-bench-") as d:
        result = lag(Path(d), 10_000, lag_seconds)
        print(
            f"lag at 10,000 spans/s for {lag_seconds:.0f}s: p50 {result['p50_s']:.3f}s, "
            f"p99 {result['p99_s']:.3f}s, max {result['max_s']:.3f}s over {result['spans']:,} "
            f"spans (target p99 <= 1s)"
        )
        out["lag"] = {k: round(v, 4) for k, v in result.items()}

    with tempfile.TemporaryDirectory(prefix="orca-bench-") as d:
        home = Path(d)
        write_conversations(home, 200 // scale, 10)
        r = dedup(home)
        print(
            f"de-dup: {r['spans']:,.0f} spans, bodies {r['body_bytes']:,.0f} B -> "
            f"{r['body_stored_bytes']:,.0f} B stored ({r['body_ratio']:.1f}x); store "
            f"{r['store_bytes']:,.0f} B = {r['bytes_per_span']:.0f} B/span "
            f"({r['bytes_per_span_vacuumed']:.0f} after VACUUM) vs bodies kept verbatim "
            f"with their spans {r['verbatim_bytes_per_span']:.0f} B/span "
            f"(ratio {r['ratio_to_verbatim']:.2f}; target <= 0.5)"
        )
        out["dedup"] = {k: round(v, 3) for k, v in r.items()}
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
