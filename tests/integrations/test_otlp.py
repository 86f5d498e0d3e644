"""OTLP in and out: spans made by the official OTel SDK become ORCA spans, and back."""

import base64
import gzip
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from orca.capture import Recorder, scrub_secrets
from orca.collector import Collector
from orca.integrations.otlp import OtlpError, decode, to_records, to_request
from orca.journal import RelayError, RelayWriter
from orca.query import skeleton, skeleton_json
from orca.store import SQLiteStore, TraceRows

PROMPT = '[{"role": "user", "content": "refund order 42"}]'
ANSWER = '[{"role": "assistant", "content": "done"}]'


def sdk_turn(exporter: InMemorySpanExporter, *, service: str = "support") -> list[ReadableSpan]:
    """One agent turn made with the OTel SDK and GenAI attributes: agent → chat → tool."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "invoke_agent support",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support",
            "gen_ai.conversation.id": "c1",
        },
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.usage.cache_creation.input_tokens": 64,
                "gen_ai.input.messages": PROMPT,
                "gen_ai.output.messages": ANSWER,
                "custom.thing": [1, 2],
            },
        ) as chat:
            chat.add_event("retry", {"attempt": 2})
        with tracer.start_as_current_span(
            "execute_tool issue_refund",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "issue_refund",
            },
            links=[Link(chat.get_span_context(), {"orca.link.reason": "answers"})],
        ) as tool:
            tool.set_status(Status(StatusCode.ERROR, "refund service returned exit 2"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def ingest(home: Path, body: bytes, ctype: str = "application/x-protobuf") -> None:
    """The server's ingest path without HTTP: decode, map, relay to the journal, collect."""
    writer = RelayWriter(home / "journal", scrub=scrub_secrets)
    writer.append(to_records(decode(body, ctype)).records)
    writer.close()
    with Collector(home) as c:
        c.drain()


def stored(home: Path) -> list[TraceRows]:
    store = SQLiteStore.open(home)
    try:
        return [t for s in store.list_traces(limit=None) if (t := store.get_trace(s.trace_id))]
    finally:
        store.close()


def shape(rows: TraceRows) -> list[tuple[int, str]]:
    """(depth, first word of the label) per skeleton line: the skeleton's shape."""
    doc = skeleton_json(skeleton(rows))
    return [(ln["depth"], ln["text"].split()[0]) for ln in doc["lines"]]


def test_sdk_genai_turn_maps_to_orca_kinds(tmp_path: Path) -> None:
    """invoke_agent → turn, chat → provider.request with bodies, execute_tool → tool-call."""
    spans = sdk_turn(InMemorySpanExporter())
    ingest(tmp_path, encode_spans(spans).SerializeToString())
    (trace,) = stored(tmp_path)
    by_name = {s.name: s for s in trace.spans}
    assert set(by_name) == {"turn", "provider.request", "tool-call"}
    chat = by_name["provider.request"]
    assert chat.attrs["gen_ai.usage.cache_write.input_tokens"] == 64
    assert chat.attrs["custom.thing"] == "[1,2]"
    assert chat.attrs["otel.span.name"] == "chat gpt-4o"
    assert chat.component == "support"
    assert by_name["tool-call"].status == "error"
    assert trace.links[0].reason == "answers"
    assert [lg.msg for lg in trace.logs] == ["retry"]
    assert by_name["turn"].attrs["otel.resource.telemetry.sdk.name"] == "opentelemetry"
    store = SQLiteStore.open(tmp_path)
    try:
        assert store.get_body(chat.request_body or "") == PROMPT.encode()
        assert store.get_body(chat.response_body or "") == ANSWER.encode()
    finally:
        store.close()


def test_sdk_turn_has_the_native_skeleton_shape(tmp_path: Path) -> None:
    """The same turn recorded natively and through OTLP gives the same skeleton shape."""
    ingest(tmp_path / "otel", encode_spans(sdk_turn(InMemorySpanExporter())).SerializeToString())
    native = tmp_path / "native"
    rec = Recorder.open(native)
    log = rec.logger("support")
    with log.span("turn", attrs={"gen_ai.agent.name": "support"}) as turn:
        with turn.child("provider.request", attrs={"gen_ai.request.model": "gpt-4o"}):
            pass
        with turn.child("tool-call", attrs={"gen_ai.tool.name": "issue_refund"}) as tool:
            tool.end(status="error")
    rec.close()
    with Collector(native) as c:
        c.drain()
    assert shape(stored(tmp_path / "otel")[0]) == shape(stored(native)[0])


def test_openinference_attributes_map(tmp_path: Path) -> None:
    """OpenInference LLM/TOOL kinds, token counts, input/output values and session ids."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("oi")
    with tracer.start_as_current_span(
        "agent", attributes={"openinference.span.kind": "CHAIN", "session.id": "s9"}
    ):
        with tracer.start_as_current_span(
            "llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "claude-x",
                "llm.token_count.prompt": 50,
                "llm.token_count.completion": 5,
                "llm.token_count.prompt_details.cache_read": 40,
                "input.value": "hello",
                "output.value": "hi",
            },
        ):
            pass
    provider.shutdown()
    ingest(tmp_path, encode_spans(exporter.get_finished_spans()).SerializeToString())
    (trace,) = stored(tmp_path)
    names = {s.name: s for s in trace.spans}
    assert set(names) == {"turn", "provider.request"}
    llm = names["provider.request"]
    assert llm.attrs["gen_ai.request.model"] == "claude-x"
    assert llm.attrs["gen_ai.usage.input_tokens"] == 50
    assert llm.attrs["gen_ai.usage.cache_read.input_tokens"] == 40
    assert llm.attrs["llm.token_count.prompt"] == 50, "originals are kept verbatim"
    assert names["turn"].attrs["gen_ai.conversation.id"] == "s9"
    assert trace.summary.input_tokens == 50


def _hex_json(body: bytes) -> bytes:
    """The OTLP/JSON encoding of a protobuf request: camelCase, ids as hex."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    req.ParseFromString(body)
    doc: Any = json_format.MessageToDict(req)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for obj in (sp, *sp.get("links", [])):
                    for k in ("traceId", "spanId", "parentSpanId"):
                        if k in obj:
                            obj[k] = base64.b64decode(obj[k]).hex()
    return orjson.dumps(doc)


def test_json_and_gzip_decode_to_the_same_request() -> None:
    """OTLP/JSON (hex ids) and gzip'd protobuf decode to what plain protobuf decodes to."""
    body = encode_spans(sdk_turn(InMemorySpanExporter())).SerializeToString()
    plain = decode(body, "application/x-protobuf")
    assert decode(_hex_json(body), "application/json") == plain
    assert decode(gzip.compress(body), "application/x-protobuf", "gzip") == plain


@pytest.mark.parametrize(
    ("body", "ctype", "encoding", "code"),
    [
        (b"\xff\xff\xff", "application/x-protobuf", None, "malformed"),
        (b'{"resourceSpans": 5}', "application/json", None, "malformed"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 7}]}]}]}',
            "application/json",
            None,
            "malformed",
        ),
        (b"not json", "application/json", None, "malformed"),
        (b"x", "text/plain", None, "encoding"),
        (b"x", "application/x-protobuf", "br", "encoding"),
        (b"not gzip", "application/x-protobuf", "gzip", "malformed"),
    ],
)
def test_malformed_requests_are_refused(
    body: bytes, ctype: str, encoding: str | None, code: str
) -> None:
    """Undecodable bodies, wrong JSON types and unknown encodings: an OtlpError with a code."""
    with pytest.raises(OtlpError) as err:
        decode(body, ctype, encoding)
    assert err.value.code == code and str(err.value)


def test_relay_refuses_a_bad_batch_whole(tmp_path: Path) -> None:
    """One invalid or oversize record: nothing of the batch is written."""
    writer = RelayWriter(tmp_path, max_record_bytes=4096)
    size = Path(writer.path).stat().st_size
    good = {"v": 1, "kind": "log", "ts": 1, "component": "x", "level": "info", "msg": "m"}
    with pytest.raises(RelayError) as bad:
        writer.append([good, {**good, "level": "loud"}])
    assert bad.value.code == "invalid"
    with pytest.raises(RelayError) as big:
        writer.append([good, {**good, "msg": "x" * 5000}])
    assert big.value.code == "oversize"
    assert Path(writer.path).stat().st_size == size
    writer.append([good])
    writer.close()
    lines = Path(writer.path).read_bytes().splitlines()
    assert [orjson.loads(ln)["kind"] for ln in lines] == ["proc", "log", "proc"]


def test_relay_masks_secrets(tmp_path: Path) -> None:
    """Relayed attributes go through the journal's secret backstop like local capture."""
    writer = RelayWriter(tmp_path, scrub=scrub_secrets)
    key = "sk-proj-Q9w8E7r6T5y4U3i2O1p0AsDfGhJk"
    writer.append(
        [
            {
                "v": 1,
                "kind": "log",
                "ts": 1,
                "component": "x",
                "level": "info",
                "msg": "m",
                "attrs": {"http.request.header.authorization": f"Bearer {key}"},
            }
        ]
    )
    writer.close()
    assert key.encode() not in Path(writer.path).read_bytes()


def test_orca_trace_round_trips_through_otlp(tmp_path: Path) -> None:
    """ORCA spans → OTLP request → ORCA records: ids, parents, names, status, attrs, bodies."""
    import subprocess

    src = tmp_path / "src"
    example = Path(__file__).resolve().parents[2] / "examples" / "support_desk.py"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "orca",
            "run",
            "--home",
            str(src),
            "--",
            sys.executable,
            str(example),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    store = SQLiteStore.open(src)
    try:
        originals = {t.summary.trace_id: t for t in stored(src)}
        bodies = {
            s.span_id: (
                (store.get_body(s.request_body) or b"").decode() if s.request_body else None,
                (store.get_body(s.response_body) or b"").decode() if s.response_body else None,
            )
            for t in originals.values()
            for s in t.spans
        }
    finally:
        store.close()
    for t in originals.values():
        logs: dict[str, list[Any]] = {}
        for lg in t.logs:
            if lg.span_id:
                logs.setdefault(lg.span_id, []).append(lg)
        links: dict[str, list[Any]] = {}
        for ln in t.links:
            links.setdefault(ln.span_id, []).append(ln)
        req = to_request(t.spans, logs=logs, links=links, bodies=bodies)
        ingest(tmp_path / "dst", req.SerializeToString())
    copies = {t.summary.trace_id: t for t in stored(tmp_path / "dst")}
    assert set(copies) == set(originals)
    for tid, orig in originals.items():
        copy = copies[tid]
        key = lambda s: s.span_id  # noqa: E731
        for a, b in zip(sorted(orig.spans, key=key), sorted(copy.spans, key=key), strict=True):
            assert (a.span_id, a.parent_id, a.name, a.status, a.start_ns, a.end_ns) == (
                b.span_id,
                b.parent_id,
                b.name,
                b.status,
                b.start_ns,
                b.end_ns,
            )
            assert a.attrs == b.attrs, a.name
            assert (a.request_body, a.response_body) == (b.request_body, b.response_body)
        # Spans travel; governed actions (the ⛓ lines) stay in the source home's ledger.
        want = [ln for ln in skeleton_json(skeleton(orig))["lines"] if ln["ledger"] is None]
        assert want == skeleton_json(skeleton(copy))["lines"]
