"""OTLP against a live `orca up`: official exporters deliver; a SIGKILL after 200 loses nothing."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orca.query import skeleton, skeleton_json
from orca.store import SQLiteStore

from .live import Up, start_up

ROOT = Path(__file__).resolve().parents[2]


def record_example(home: Path) -> None:
    """The support-desk example recorded into ``home`` by the real `orca run`."""
    example = str(ROOT / "examples" / "support_desk.py")
    cmd = [sys.executable, "-m", "orca", "run", "--home", str(home), "--", sys.executable, example]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _turn(exporter: SpanExporter, n_tools: int = 2) -> None:
    """One GenAI-shaped turn through the OTel SDK, exported by ``exporter``."""
    provider = TracerProvider(resource=Resource.create({"service.name": "otel-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span(
        "invoke_agent a", attributes={"gen_ai.operation.name": "invoke_agent"}
    ):
        with tracer.start_as_current_span(
            "chat m",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "m",
                "gen_ai.input.messages": '[{"role":"user","content":"hi"}]',
            },
        ):
            pass
        for i in range(n_tools):
            with tracer.start_as_current_span(
                f"execute_tool t{i}", attributes={"gen_ai.operation.name": "execute_tool"}
            ):
                pass
    provider.shutdown()


def _traces(url: str, want: int, spans: int = 0, timeout: float = 60) -> list[dict[str, Any]]:
    """The trace list once it holds ``want`` traces and ``spans`` spans (the collector catches up;
    a trace is listed from its first stored record, so counting traces alone races)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = httpx.get(f"{url}/api/v1/traces", params={"limit": 100}, timeout=10).json()["traces"]
        done = len(rows) >= want and sum(r["span_count"] for r in rows) >= spans
        if done or time.monotonic() > deadline:
            return list(rows)
        time.sleep(0.2)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Up, int]]:
    """`orca up` on a fresh home with OTLP/gRPC on a free port."""
    grpc_port = _free_port()
    up = start_up(tmp_path / "home", "--create", "--otlp-grpc-port", str(grpc_port))
    yield up, grpc_port
    up.stop()


@pytest.mark.slow
def test_official_exporters_deliver(live: tuple[Up, int]) -> None:
    """The OTel SDK's OTLP/HTTP and OTLP/gRPC exporters both land spans in the store."""
    up, grpc_port = live
    _turn(HttpExporter(endpoint=f"{up.url}/v1/traces"))
    _turn(GrpcExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True), n_tools=1)
    rows = _traces(up.url, 2, spans=7)
    assert sorted(r["span_count"] for r in rows) == [3, 4]
    assert {r["root_name"] for r in rows} == {"turn"}


@pytest.mark.slow
def test_sigkill_after_200_loses_nothing(tmp_path: Path) -> None:
    """Every span acknowledged with 200 is stored after `orca up` is SIGKILLed and collected."""
    home = tmp_path / "home"
    up = start_up(home, "--create", "--no-collector")
    sent = 0
    for i in range(20):
        mem = InMemorySpanExporter()
        _turn(mem, n_tools=i % 4)
        body = encode_spans(mem.get_finished_spans()).SerializeToString()
        r = httpx.post(
            f"{up.url}/v1/traces",
            content=body,
            headers={"content-type": "application/x-protobuf"},
            timeout=10,
        )
        assert r.status_code == 200
        sent += len(mem.get_finished_spans())
    os.kill(up.proc.pid, signal.SIGKILL)
    up.kill()
    subprocess.run(
        [sys.executable, "-m", "orca", "collect", "--once", "--home", str(home)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    store = SQLiteStore.open(home)
    try:
        spans = sum(s.span_count for s in store.list_traces(limit=None))
    finally:
        store.close()
    assert spans == sent


def test_bad_requests_are_refused_and_write_nothing(tmp_path: Path) -> None:
    """Malformed protobuf, wrong JSON types, unknown encodings, oversize bodies: 4xx, no bytes."""
    from fastapi.testclient import TestClient

    from orca.server import ServerConfig, create_app

    home = tmp_path / "home"
    (home / "journal").mkdir(parents=True)
    app = create_app(ServerConfig(home=home, otlp_max_body_bytes=4096, mcp=False))
    with TestClient(app) as c:
        cases = [
            (b"\xff\xff\xff", {"content-type": "application/x-protobuf"}, 400),
            (b'{"resourceSpans": 7}', {"content-type": "application/json"}, 400),
            (b"hello", {"content-type": "text/plain"}, 415),
            (b"x", {"content-type": "application/x-protobuf", "content-encoding": "br"}, 415),
            (b"\x00" * 5000, {"content-type": "application/x-protobuf"}, 413),
        ]
        for body, headers, status in cases:
            r = c.post("/v1/traces", content=body, headers=headers)
            assert r.status_code == status, (headers, r.text)
            assert r.json()["error"]["code"]
    assert list((home / "journal").iterdir()) == []


@pytest.mark.slow
def test_export_round_trip_through_a_second_home(tmp_path: Path) -> None:
    """`orca export otlp --with-bodies` into another home's `orca up`: the same skeletons."""
    src = tmp_path / "src"
    record_example(src)
    up = start_up(tmp_path / "dst", "--create")
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "orca",
                "export",
                "otlp",
                "--home",
                str(src),
                "--endpoint",
                up.url,
                "--with-bodies",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        a = SQLiteStore.open(src)
        try:
            originals = {s.trace_id: a.get_trace(s.trace_id) for s in a.list_traces(limit=None)}
        finally:
            a.close()
        total = sum(len(t.spans) for t in originals.values() if t is not None)
        _traces(up.url, len(originals), spans=total)
        again = subprocess.run(
            [
                sys.executable,
                "-m",
                "orca",
                "export",
                "otlp",
                "--home",
                str(src),
                "--endpoint",
                up.url,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert '"traces": 0' in again.stdout, "the cursor resumes: nothing is sent twice"
    finally:
        up.stop()
    b = SQLiteStore.open(tmp_path / "dst")
    try:
        for tid, orig in originals.items():
            copy = b.get_trace(tid)
            assert orig is not None and copy is not None
            # Spans travel; governed actions (the ⛓ lines) stay in the source home's ledger.
            want = [ln for ln in skeleton_json(skeleton(orig))["lines"] if ln["ledger"] is None]
            assert want == skeleton_json(skeleton(copy))["lines"]
    finally:
        b.close()


@pytest.mark.slow
def test_mcp_over_http_on_orca_up(tmp_path: Path) -> None:
    """The SDK's streamable-HTTP client talks to /mcp on a live `orca up`."""
    import asyncio

    from mcp import Client

    home = tmp_path / "home"
    record_example(home)
    up = start_up(home)
    try:

        async def main() -> Any:
            async with Client(f"{up.url}/mcp", cache=None) as c:
                tools = await c.list_tools()
                chk = await c.call_tool("check", {})
                bad = await c.call_tool("span", {"span": "ffff"})
                return tools, chk, bad

        tools, chk, bad = asyncio.run(main())
    finally:
        up.stop()
    assert {"check", "skeleton", "span", "runs"} <= {t.name for t in tools.tools}
    assert chk.structured_content["passed"] is False and bad.is_error
