"""Checks bench: `orca check --all` over 10,000 traces (100,000 spans) vs reading their rows.

Builds a store through its write API (``SQLiteStore.apply``; no journal, no
collector) of realistic agent turns — a turn, steps, provider requests with
models, usage, cost and finish reasons, tool calls with inputs — with some
defects planted (tool loops, 429 storms, truncated answers, context overflows,
model switches) so the checks have work to do. Then measures, in the same run:

* the floor: reading those traces' rows from the store, the way the CLI reads
  them (``list_traces`` + ``get_trace`` per trace);
* ``orca check --all --json`` in-process (the CLI's code path: read, run all
  16 checks, rank root causes, build the JSON) — target ≤ 2× the floor;
* the checks alone on rows already read, and the CLI cold in a subprocess.

``ORCA_BENCH_TRACES`` scales it (default 10,000); ``--quick`` = 2,000. Ends with one
line of JSON.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from orca.cli import cli
from orca.query import checks_json, run_checks
from orca.store import SQLiteStore, items_from

SPANS_PER_TRACE = 10
TARGET = 2.0


def _id(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits) | 1:0{bits // 4}x}"


def turn_records(rng: random.Random, t0: int, n: int) -> list[dict[str, Any]]:
    """One turn of 10 spans: 3 steps, each a provider request, and tool calls; maybe a defect."""
    trace = f"{(t0 // 1_000_000) & 0xFFFFFFFFFFFF:012x}{rng.getrandbits(80) | 1:020x}"
    base = {"v": 1, "component": "bench", "trace": trace}
    recs: list[dict[str, Any]] = []
    defect = n % 50
    ts = t0

    def span(name: str, parent: str | None, attrs: dict[str, Any], close: dict[str, Any]) -> str:
        nonlocal ts
        sid = _id(rng, 64)
        open_rec: dict[str, Any] = {**base, "kind": "span-open", "ts": ts, "span": sid}
        open_rec.update(name=name, attrs=attrs)
        if parent:
            open_rec["parent"] = parent
        if name == "tool-call":
            open_rec["body"] = attrs.pop("input")
        status = close.pop("status", "ok")
        recs.append(open_rec)
        ts += 1_000_000 + rng.randrange(1_000_000)
        recs.append(
            {**base, "kind": "span-close", "ts": ts, "span": sid, "status": status, "attrs": close}
        )
        return sid

    conv = f"conv-{n}"
    root = _id(rng, 64)
    recs.append(
        {
            **base,
            "kind": "span-open",
            "ts": ts,
            "span": root,
            "name": "turn",
            "attrs": {"gen_ai.conversation.id": conv},
        }
    )
    tokens = 800
    for k in range(3):
        step = _id(rng, 64)
        recs.append({**base, "kind": "span-open", "ts": ts, "span": step, "parent": root})
        recs[-1].update(name="step", attrs={"gen_ai.request.model": "gpt-4o"})
        model = "gpt-4o-mini" if defect == 7 and k == 2 else "gpt-4o"
        close: dict[str, Any] = {
            "http.response.status_code": 200,
            "gen_ai.usage.input_tokens": tokens,
            "gen_ai.usage.output_tokens": 90,
            "gen_ai.response.finish_reasons": "length" if defect == 3 and k == 1 else "stop",
            "orca.cost.usd": 0.002 * (40 if defect == 11 else 1),
        }
        if defect == 5:
            close = {"http.response.status_code": 429, "status": "error", "error.type": "429"}
        if defect == 9 and k == 2:
            close = {
                "http.response.status_code": 400,
                "status": "error",
                "error.message": "This model's maximum context length is 128000 tokens.",
            }
        span("provider.request", step, {"gen_ai.request.model": model}, close)
        tool = "lookup" if defect == 1 else f"tool{k}"
        arg = '{"q": 1}' if defect == 1 else f'{{"q": {rng.randrange(10**6)}}}'
        span("tool-call", step, {"gen_ai.tool.name": tool, "input": arg}, {})
        tokens += 200
        recs.append({**base, "kind": "span-close", "ts": ts, "span": step, "status": "ok"})
        ts += 1000
    recs.append({**base, "kind": "span-close", "ts": ts + 1, "span": root, "status": "ok"})
    assert sum(1 for r in recs if r["kind"] == "span-open") == SPANS_PER_TRACE
    return recs


def build(home: Path, traces: int) -> float:
    rng = random.Random(21)
    store = SQLiteStore.open(home)
    t0 = time.time_ns() - 3_600_000_000_000
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for n in range(traces):
        batch.extend(turn_records(rng, t0 + n * 50_000_000, n))
        if len(batch) >= 20_000:
            store.apply(items_from(batch, f"bench-{n}"))
            batch = []
    if batch:
        store.apply(items_from(batch, "bench-last"))
    store.close()
    return time.perf_counter() - started


def median_time(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    traces = int(os.environ.get("ORCA_BENCH_TRACES", "2000" if "--quick" in sys.argv else "10000"))
    runs = 3
    with tempfile.TemporaryDirectory(prefix="orca-bench-checks-") as d:
        home = Path(d)
        build_s = build(home, traces)
        print(
            f"built store: {traces:,} traces, {traces * SPANS_PER_TRACE:,} spans in {build_s:.1f}s"
        )
        store = SQLiteStore.open(home, create=False)

        def read_rows() -> list[Any]:
            rows = [store.get_trace(s.trace_id) for s in store.list_traces(limit=traces)]
            return [r for r in rows if r is not None]

        rows = read_rows()
        assert len(rows) == traces and sum(len(r.spans) for r in rows) == traces * SPANS_PER_TRACE
        args = ["check", "--all", "--limit", str(traces), "--json", "--home", str(home)]
        runner = CliRunner()

        def cli_check() -> Any:
            out = runner.invoke(cli, args)
            assert out.exit_code == 1, out.output[-500:]  # planted defects: findings
            return json.loads(out.output)

        doc = cli_check()  # warm: both sides then run on a hot page cache
        # Interleaved, so load from other processes hits both sides alike; medians.
        read_times, check_times = [], []
        for _ in range(runs):
            read_times.append(median_time(read_rows, 1))
            check_times.append(median_time(cli_check, 1))
        read_s, check_s = statistics.median(read_times), statistics.median(check_times)
        checks_only_s = median_time(
            lambda: checks_json(run_checks(rows, body=store.get_body), rows), runs
        )
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orca", *args], capture_output=True, check=False)
        cold_s = time.perf_counter() - t
        store.close()
    failed = {c["name"]: len(c["findings"]) for c in doc["checks"] if not c["passed"]}
    ratio = check_s / read_s
    print(f"read the rows (list_traces + get_trace each): {read_s:.2f} s (floor)")
    print(
        f"orca check --all --json (in-process CLI): {check_s:.2f} s = {ratio:.2f}× floor"
        f" (target ≤ {TARGET:g}×)"
    )
    print(f"  the checks alone on rows already read: {checks_only_s:.2f} s")
    print(f"  CLI cold in a subprocess: {cold_s:.2f} s")
    print("  findings: " + ", ".join(f"{k} {v}" for k, v in sorted(failed.items())))
    print(
        json.dumps(
            {
                "bench": "checks",
                "traces": traces,
                "spans": traces * SPANS_PER_TRACE,
                "build_s": round(build_s, 2),
                "read_s": round(read_s, 3),
                "check_s": round(check_s, 3),
                "checks_only_s": round(checks_only_s, 3),
                "cli_cold_s": round(cold_s, 3),
                "ratio": round(ratio, 2),
                "target_ratio": TARGET,
                "ok": ratio <= TARGET,
                "findings": failed,
            }
        )
    )


if __name__ == "__main__":
    main()
