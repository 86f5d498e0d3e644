"""OTLP ingest: spans from OpenTelemetry exporters, in the journal before they are acknowledged.

Peers answer an export from memory and lose the batch when they crash. Here a
request is decoded, mapped to ORCA records (``orca.integrations.otlp``) and
written whole to this server's own journal segment (``orca.journal``'s
:class:`~orca.journal.RelayWriter`: one write, in the page cache, secrets
masked) *before* the success answer — so it is as crash-safe as local capture,
and the collector takes it from there like any other segment. Nothing
bypasses the journal. The server imports the journal room for this one writer
(the flow in DESIGN.md: "server: append to a journal segment, then 200").

Backpressure: when the journal's disk has less than ``min_free_bytes`` left, or
a write fails, the answer is "try later" (HTTP 429 / gRPC ``RESOURCE_EXHAUSTED``
with a retry delay) and nothing was acknowledged.
"""

import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from orca.capture import scrub_secrets
from orca.errors import UsageError
from orca.integrations.otlp import OtlpError, decode, to_records
from orca.journal import RelayError, RelayWriter

DEFAULT_MIN_FREE_BYTES: Final = 64 * 1024 * 1024
RETRY_AFTER_S: Final = 5


class Backpressure(UsageError):
    """The journal cannot take more right now; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Accepted:
    """What one export request did: spans written, spans refused and why."""

    spans: int
    rejected: int
    message: str

    def response(self) -> ExportTraceServiceResponse:
        out = ExportTraceServiceResponse()
        if self.rejected:
            out.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=self.rejected, error_message=self.message)
            )
        return out


class OtlpIngest:
    """Decodes, maps and journals OTLP trace requests for one home (thread-safe)."""

    def __init__(
        self,
        home: Path,
        *,
        min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
        on_accept: Callable[[int, int], None] | None = None,
    ) -> None:
        self.journal_dir = home / "journal"
        self.min_free_bytes = min_free_bytes
        self._on_accept = on_accept
        self._writer: RelayWriter | None = None
        self._lock = threading.Lock()

    def _relay(self) -> RelayWriter:
        with self._lock:
            if self._writer is None:  # the segment appears with the first export, not at start
                self._writer = RelayWriter(self.journal_dir, scrub=scrub_secrets)
            return self._writer

    def accept(self, req: ExportTraceServiceRequest) -> Accepted:
        """Journal every valid span of ``req``; raises :class:`Backpressure` when it cannot."""
        mapped = to_records(req)
        if mapped.records:
            try:
                free = shutil.disk_usage(self.journal_dir.parent).free
            except OSError:
                free = self.min_free_bytes
            if free < self.min_free_bytes:
                raise Backpressure(
                    f"the journal's disk has {free} bytes free (< {self.min_free_bytes}); "
                    "retry later"
                )
            try:
                self._relay().append(mapped.records)
            except RelayError as exc:
                if exc.code == "io":
                    raise Backpressure(f"{exc}; retry later") from None
                raise OtlpError(str(exc), "malformed") from None
        accepted = mapped.spans - mapped.rejected
        if self._on_accept is not None:
            self._on_accept(accepted, mapped.rejected)
        return Accepted(accepted, mapped.rejected, "; ".join(mapped.reasons))

    def accept_http(
        self, body: bytes, content_type: str | None, content_encoding: str | None
    ) -> tuple[bytes, str]:
        """An OTLP/HTTP request → (response body, its content type), in the request's encoding."""
        req = decode(body, content_type, content_encoding)
        resp = self.accept(req).response()
        if (content_type or "").split(";", 1)[0].strip().lower() == "application/json":
            from google.protobuf import json_format

            return json_format.MessageToJson(resp).encode(), "application/json"
        return resp.SerializeToString(), "application/x-protobuf"

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


def serve_grpc(ingest: OtlpIngest, host: str, port: int) -> Any:
    """Start the OTLP/gRPC trace service on ``host:port``; returns the started ``grpc.Server``."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as svc

    class TraceService(svc.TraceServiceServicer):
        def Export(
            self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
        ) -> ExportTraceServiceResponse:
            try:
                return ingest.accept(request).response()
            except Backpressure as exc:
                context.set_trailing_metadata((("retry-after", str(exc.retry_after)),))
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
            except OtlpError as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise AssertionError("unreachable: abort raises")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    svc.add_TraceServiceServicer_to_server(TraceService(), server)  # type: ignore[no-untyped-call]
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise UsageError(f"cannot listen for OTLP/gRPC on {host}:{port}; is the port taken?")
    server.start()
    return server


EXPORT_EVERY_S: Final = 2.0


@contextmanager
def exporting(
    home: Path, endpoint: str, with_bodies: bool, say: Callable[[str], None]
) -> Iterator[None]:
    """Forward finished traces to ``endpoint`` from a daemon thread while the server runs.

    The cursor in the home makes a restart resume where the last run stopped;
    an unreachable endpoint is retried (and said once), never fatal to the server.
    """
    from orca.integrations.otlp import Cursor, Exporter, ExportError, traces_url
    from orca.store import open_store

    url = traces_url(endpoint)
    stop = threading.Event()

    def pause(seconds: float) -> None:
        stop.wait(seconds)  # a backoff that a stopping server cuts short

    exporter = Exporter(endpoint, Cursor.load(home, endpoint), with_bodies=with_bodies, sleep=pause)

    def loop() -> None:
        failing = False
        while not stop.wait(EXPORT_EVERY_S):
            try:
                store = open_store(home)
            except UsageError:
                continue  # no store yet: the collector has not written one
            try:
                exporter.step(store)
                failing = False
            except ExportError as exc:
                if not failing:
                    say(f"otlp export: {exc}; retrying")
                failing = True
            finally:
                store.close()

    thread = threading.Thread(target=loop, name="orca-otlp-export", daemon=True)
    thread.start()
    say(f"otlp: exporting finished traces to {url}")
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
