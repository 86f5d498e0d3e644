"""OTLP ingest bench: the official OTel SDK exporter into a live `orca up`, until queryable.

Load: agent-shaped turns of 13 spans (one agent span, 4 steps of chat + 2 tools,
each chat span carrying a distinct ~2 KB prompt), made with the OTel SDK and sent
by its OTLP/HTTP exporter through a ``BatchSpanProcessor`` in batches of 512.
Measured in the same run:

* end-to-end spans/s: from the first span made to the last span visible through
  ``GET /api/v1/traces`` (decoded, journaled, collected, stored);
* the POST latency an exporter sees (p50/p99), for the same encoded batches sent
  one by one — the cost of journaling before the 200;
* the transport floor: the same POSTs to a do-nothing endpoint on the same
  uvicorn stack (what HTTP alone costs here), so the ratio says what ORCA adds.

Phoenix's 177 spans/s for this load (measured once on this machine type, not in
this run) is printed as a reference only. ``--quick``: 200 turns (default 1,000).
Ends with one line of JSON.
"""

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from orca._percentile import percentile

PHOENIX_SPANS_S = 177.0
WORDS = (
    "refund", "order", "invoice", "account", "billing",
    "shipment", "customer", "ticket", "agent", "tool",
)  # fmt: skip


def prompt(rng: random.Random) -> str:
    text = " ".join(rng.choice(WORDS) + str(rng.getrandbits(20)) for _ in range(220))
    return json.dumps([{"role": "user", "content": text}])


def make_turns(exporter: SpanExporter, turns: int, seed: int, batch: bool) -> int:
    rng = random.Random(seed)
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-agent"}))
    proc = (
        BatchSpanProcessor(exporter, max_export_batch_size=512, max_queue_size=65536)
        if batch
        else None
    )
    if proc is not None:
        provider.add_span_processor(proc)
    else:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    for _ in range(turns):
        with tracer.start_as_current_span(
            "invoke_agent support", attributes={"gen_ai.operation.name": "invoke_agent"}
        ):
            for _ in range(4):
                with tracer.start_as_current_span(
                    "chat m",
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "m",
                        "gen_ai.input.messages": prompt(rng),
                        "gen_ai.usage.input_tokens": 500,
                    },
                ):
                    pass
                for t in range(2):
                    with tracer.start_as_current_span(
                        f"execute_tool t{t}", attributes={"gen_ai.operation.name": "execute_tool"}
                    ):
                        pass
    provider.shutdown()
    return turns * 13


def start_up(home: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "orca", "up", "--home", str(home), "--create", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    m = re.search(r"at (http://\S+) ", proc.stdout.readline())
    assert m, "orca up printed no URL"
    url = m.group(1)
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)


def stored_spans(home: Path) -> int:
    """Spans a reader can query now (the store the server's collector writes)."""
    from orca.errors import OrcaError
    from orca.store import open_store

    try:
        store = open_store(home)
    except OrcaError:
        return 0  # no store yet
    try:
        return sum(s.span_count for s in store.list_traces(limit=None))
    finally:
        store.close()


def post_latencies(url: str, bodies: list[bytes]) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as c:
        for b in bodies:
            t = time.perf_counter()
            r = c.post(url, content=b, headers={"content-type": "application/x-protobuf"})
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    return out


def floor_server() -> tuple[uvicorn.Server, str]:
    async def sink(request: Any) -> Response:
        await request.body()
        return Response(b"", media_type="application/x-protobuf")

    app = Starlette(routes=[Route("/v1/traces", sink, methods=["POST"])])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}/v1/traces"


def main() -> None:
    turns = 200 if "--quick" in sys.argv else 1000
    seed = int(os.environ.get("ORCA_BENCH_SEED", "7"))
    print(f"seed {seed}, {turns} turns × 13 spans, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        proc, url = start_up(home)
        try:
            t0 = time.perf_counter()
            total = make_turns(OTLPSpanExporter(endpoint=f"{url}/v1/traces"), turns, seed, True)
            sent_s = time.perf_counter() - t0
            deadline = time.monotonic() + 600
            while stored_spans(home) < total and time.monotonic() < deadline:
                time.sleep(0.2)
            e2e_s = time.perf_counter() - t0
            got = stored_spans(home)
            # The same batches, encoded once, posted one by one: the exporter's view.
            mem = InMemorySpanExporter()
            make_turns(mem, max(40, turns // 5), seed + 1, False)
            spans = mem.get_finished_spans()
            bodies = [
                encode_spans(spans[i : i + 512]).SerializeToString()
                for i in range(0, len(spans), 512)
            ]
            orca_lat = post_latencies(f"{url}/v1/traces", bodies * 3)
        finally:
            proc.terminate()
            proc.communicate(timeout=120)
    server, floor_url = floor_server()
    floor_lat = post_latencies(floor_url, bodies * 3)
    server.should_exit = True
    rate = got / e2e_s
    p50, p99 = statistics.median(orca_lat) * 1e3, percentile(orca_lat, 0.99, 0.0) * 1e3
    f50, f99 = statistics.median(floor_lat) * 1e3, percentile(floor_lat, 0.99, 0.0) * 1e3
    print(
        f"end to end: {got}/{total} spans queryable in {e2e_s:.2f} s = {rate:,.0f} spans/s "
        f"(exporter done after {sent_s:.2f} s); {rate / PHOENIX_SPANS_S:.1f}× Phoenix's "
        f"{PHOENIX_SPANS_S:.0f} spans/s (reference, not measured here)"
    )
    print(
        f"POST of 512 spans: p50 {p50:.1f} ms, p99 {p99:.1f} ms; do-nothing endpoint "
        f"p50 {f50:.1f} ms, p99 {f99:.1f} ms → ORCA adds {p50 - f50:.1f} ms at p50"
    )
    print(
        json.dumps(
            {
                "bench": "otlp",
                "turns": turns,
                "spans": total,
                "stored": got,
                "spans_per_s": round(rate),
                "vs_phoenix_reference": round(rate / PHOENIX_SPANS_S, 1),
                "post_p50_ms": round(p50, 2),
                "post_p99_ms": round(p99, 2),
                "floor_p50_ms": round(f50, 2),
                "floor_p99_ms": round(f99, 2),
                "meets_target": rate >= 20 * PHOENIX_SPANS_S and got == total,
            }
        )
    )


if __name__ == "__main__":
    main()
