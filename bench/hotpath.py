"""Hot-path cost per span: ORCA against the physical floor and its peers, in one run.

Each contender records N spans (open + close, 5 attributes) and we report the
median over several rounds of microseconds per span:

- orca        the public API: ``log.span(...)`` then ``span.end()`` into a journal sink
- orca_with   the same via ``with log.span(...)`` (context manager)
- orca_nobackstop  ``span()``/``end()`` with the secret backstop switched off (``backstop=False``)
- floor       hand-written: build the same two records as dicts (same clock and id calls),
              ``orjson.dumps``, ``os.write`` each
- otel        OpenTelemetry SDK, BatchSpanProcessor, an exporter that does nothing
- otel_otlp   the same, the exporter encoding each batch to OTLP protobuf (no network)
- logging     stdlib logging, a JSON formatter, a file handler, two lines per span
- noop        ``span()`` + ``end()`` with recording disabled

Also the import cost of ``import orca`` (a fresh interpreter, best of several) and
the machine's load average at start and end. The last line is one JSON object.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

import orca

N = int(os.environ.get("ORCA_BENCH_SPANS", "20000"))
ROUNDS = int(os.environ.get("ORCA_BENCH_ROUNDS", "7"))
ATTRS = {
    "gen_ai.request.model": "gpt-x",
    "gen_ai.operation.name": "chat",
    "gen_ai.usage.input_tokens": 812,
    "gen_ai.usage.output_tokens": 95,
    "orca.attempt": 1,
}


def per_span_us(run: Callable[[int], None]) -> float:
    """Median over rounds of microseconds per span for ``run(n)``."""
    run(min(N, 2000))  # warm up
    samples = []
    for _ in range(ROUNDS):
        gc.collect()
        t0 = time.perf_counter_ns()
        run(N)
        samples.append((time.perf_counter_ns() - t0) / N / 1000)
    return statistics.median(samples)


def _explicit(turn: orca.Span) -> Callable[[int], None]:
    def explicit(n: int) -> None:
        child = turn.child
        for _ in range(n):
            child("step", ATTRS).end()

    return explicit


def bench_orca(tmp: Path) -> tuple[float, float, float, float]:
    rec = orca.Recorder.open(tmp / "orca", heartbeat_s=None)
    log = rec.logger("bench-agent")
    turn = log.span("turn")
    bare = orca.Recorder.open(tmp / "bare", heartbeat_s=None, backstop=False)
    bare_turn = bare.logger("bench-agent").span("turn")

    def with_block(n: int) -> None:
        child = turn.child
        for _ in range(n):
            with child("step", ATTRS):
                pass

    a = per_span_us(_explicit(turn))
    b = per_span_us(with_block)
    d = per_span_us(_explicit(bare_turn))
    rec.close()
    bare.close()

    off = orca.Recorder.open(tmp / "off", enabled=False)
    noop_log = off.logger("bench-agent")

    def disabled(n: int) -> None:
        span = noop_log.span
        for _ in range(n):
            span("step", ATTRS).end()

    c = per_span_us(disabled)
    return a, b, c, d


def bench_floor(tmp: Path) -> float:
    fd = os.open(tmp / "floor.ndjson", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random(1)
    trace = f"{time.time_ns() // 1_000_000:012x}{rng.getrandbits(80):020x}"
    parent = rng.getrandbits(64).to_bytes(8, "big").hex()
    dumps, write, opt, now, bits = (
        orjson.dumps,
        os.write,
        orjson.OPT_APPEND_NEWLINE,
        time.time_ns,
        rng.getrandbits,
    )

    def run(n: int) -> None:
        for _ in range(n):
            span = bits(64).to_bytes(8, "big").hex()
            opened = {
                "v": 1,
                "kind": "span-open",
                "ts": now(),
                "component": "bench-agent",
                "trace": trace,
                "span": span,
                "parent": parent,
                "name": "step",
                "attrs": ATTRS,
            }
            write(fd, dumps(opened, option=opt))
            closed = {
                "v": 1,
                "kind": "span-close",
                "ts": now(),
                "component": "bench-agent",
                "trace": trace,
                "span": span,
                "status": "ok",
            }
            write(fd, dumps(closed, option=opt))

    try:
        return per_span_us(run)
    finally:
        os.close(fd)


def bench_otel(encode: bool) -> float:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Exporter(SpanExporter):
        def export(self, spans: Sequence[object]) -> SpanExportResult:
            if encode:
                from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

                encode_spans(spans).SerializeToString()  # type: ignore[arg-type]
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

    provider = TracerProvider()
    processor = BatchSpanProcessor(Exporter(), max_queue_size=N * 2)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")

    def run(n: int) -> None:
        start = tracer.start_span
        for _ in range(n):
            start("step", attributes=ATTRS).end()
        processor.force_flush()  # the export work is part of the cost, as in production

    try:
        return per_span_us(run)
    finally:
        provider.shutdown()


def bench_logging(tmp: Path) -> float:
    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return json.dumps(
                {
                    "ts": record.created,
                    "level": record.levelname,
                    "msg": record.getMessage(),
                    "component": record.name,
                    **getattr(record, "attrs", {}),
                }
            )

    handler = logging.FileHandler(tmp / "logging.ndjson")
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bench-agent")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    extra = {"attrs": ATTRS}

    def run(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("span open step", extra=extra)
            info("span close step", extra={"attrs": {"status": "ok"}})

    try:
        return per_span_us(run)
    finally:
        logger.removeHandler(handler)
        handler.close()


def import_ms(cache_dir: Path) -> tuple[float, float, float]:
    """Best-of-N wall time of ``import orca`` (and of opening a recorder) over a bare start.

    Measured as installed code runs: with compiled bytecode. This machine sets
    PYTHONDONTWRITEBYTECODE, which would make every run recompile ORCA's sources,
    so the bytecode goes to a private cache (PYTHONPYCACHEPREFIX) warmed once.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    home = cache_dir / "home"
    open_code = (
        f"import orca; r = orca.Recorder.open({str(home)!r}, heartbeat_s=None); "
        "r.logger('a').span('s').end(); r.close()"
    )

    def best(code: str) -> float:
        subprocess.run([sys.executable, "-c", code], check=True, env=env)  # warm the cache
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times.append((time.perf_counter() - t0) * 1000)
        return min(times)

    bare = best("pass")
    with_orca = best("import orca")
    first_span = best(open_code)
    return with_orca - bare, bare, first_span - bare


def main() -> None:
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="orca-bench-") as d:
        tmp = Path(d)
        floor_us = bench_floor(tmp)
        orca_us, orca_with_us, noop_us, bare_us = bench_orca(tmp)
        floor_us = min(floor_us, bench_floor(tmp))  # the floor is a floor: best of two passes
        otel_us = bench_otel(encode=False)
        otel_otlp_us = bench_otel(encode=True)
        logging_us = bench_logging(tmp)
        import_cost_ms, bare_ms, first_span_ms = import_ms(tmp / "pycache")
    load_end = os.getloadavg()

    print(
        f"spans per round: {N}, rounds: {ROUNDS} (median µs per span: open + close, 5 attributes)"
    )
    rows = [
        ("floor (dicts + orjson + os.write)", floor_us),
        ("orca  span()/end()", orca_us),
        ("orca  with span()", orca_with_us),
        ("orca  span()/end(), backstop off", bare_us),
        ("orca  disabled (no-op)", noop_us),
        ("otel  batch, do-nothing exporter", otel_us),
        ("otel  batch, OTLP encoding", otel_otlp_us),
        ("stdlib logging, JSON, 2 lines", logging_us),
    ]
    for label, value in rows:
        print(f"  {label:36s} {value:8.2f} µs")
    print(f"  orca / floor           {orca_us / floor_us:6.2f}x   (target <= 1.25)")
    print(f"  orca (backstop off) / floor {bare_us / floor_us:6.2f}x")
    print(f"  otel / orca            {otel_us / orca_us:6.2f}x   (target >= 3.5)")
    print(f"  otel+otlp / orca       {otel_otlp_us / orca_us:6.2f}x   (target >= 9)")
    print(
        f"  import orca            {import_cost_ms:6.1f} ms over a bare start of {bare_ms:.1f} ms "
        "(target <= 25)"
    )
    print(f"  import + open + 1 span {first_span_ms:6.1f} ms over a bare start (orjson loads here)")
    noisy = max(load_start[0], load_end[0]) > (os.cpu_count() or 1) * 0.5
    print(
        f"  load average start {load_start[0]:.2f}, end {load_end[0]:.2f}"
        + ("  (NOISY: other work was running; compare ratios, not absolutes)" if noisy else "")
    )
    print(
        json.dumps(
            {
                "bench": "hotpath",
                "spans": N,
                "orca_us": round(orca_us, 3),
                "orca_with_us": round(orca_with_us, 3),
                "orca_nobackstop_us": round(bare_us, 3),
                "orca_nobackstop_over_floor": round(bare_us / floor_us, 3),
                "floor_us": round(floor_us, 3),
                "otel_us": round(otel_us, 3),
                "otel_otlp_us": round(otel_otlp_us, 3),
                "logging_us": round(logging_us, 3),
                "noop_us": round(noop_us, 3),
                "orca_over_floor": round(orca_us / floor_us, 3),
                "otel_over_orca": round(otel_us / orca_us, 3),
                "otel_otlp_over_orca": round(otel_otlp_us / orca_us, 3),
                "import_ms": round(import_cost_ms, 2),
                "import_open_first_span_ms": round(first_span_ms, 2),
                "load_start": round(load_start[0], 2),
                "load_end": round(load_end[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
