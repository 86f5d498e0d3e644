"""OTLP trace export requests → ORCA records (for the journal, like any local capture).

Decoding accepts OTLP/HTTP's two encodings (protobuf and JSON, whose ids are
hex) and gzip; anything that does not decode is an :class:`OtlpError` with the
reason and nothing is written. Each span becomes a ``span-open`` (at its start)
and, when the exporter sent its end, a ``span-close`` — an open span stays open,
as a crashed local span does. Span events become logs, links become links,
``gen_ai.input.messages``/``input.value`` the request body and
``gen_ai.output.messages``/``output.value`` the response body.
"""

import base64
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from orca.errors import UsageError
from orca.integrations.otlp import _names as names
from orca.integrations.otlp._values import flat

DEFAULT_COMPONENT: Final = "otel"
_HEX: Final = frozenset("0123456789abcdef")


class OtlpError(UsageError):
    """An OTLP request that cannot be read; ``code`` is stable (``malformed``, ``encoding``)."""

    def __init__(self, message: str, code: str = "malformed") -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class Mapped:
    """What one request became: records to append, and spans refused with why."""

    records: list[dict[str, Any]] = field(default_factory=list)
    spans: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)


def _inflate(body: bytes, content_encoding: str | None) -> bytes:
    enc = (content_encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc == "gzip":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise OtlpError(f"gzip body does not decompress: {exc}") from None
    raise OtlpError(f"content-encoding {enc!r} is not supported; use gzip or none", "encoding")


def _hex_ids_to_base64(doc: Any) -> None:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64 bytes."""
    for rs in doc.get("resourceSpans", doc.get("resource_spans", [])) or []:
        for ss in rs.get("scopeSpans", rs.get("scope_spans", [])) or []:
            for sp in ss.get("spans", []) or []:
                for obj in (sp, *(sp.get("links") or [])):
                    for key in (
                        "traceId",
                        "spanId",
                        "parentSpanId",
                        "trace_id",
                        "span_id",
                        "parent_span_id",
                    ):
                        v = obj.get(key)
                        if isinstance(v, str) and v and set(v.lower()) <= _HEX and len(v) % 2 == 0:
                            obj[key] = base64.b64encode(bytes.fromhex(v)).decode()


def decode(
    body: bytes, content_type: str | None, content_encoding: str | None = None
) -> ExportTraceServiceRequest:
    """Parse an OTLP/HTTP traces request body (protobuf or JSON, optionally gzip)."""
    raw = _inflate(body, content_encoding)
    ctype = (content_type or "application/x-protobuf").split(";", 1)[0].strip().lower()
    req = ExportTraceServiceRequest()
    if ctype in ("application/x-protobuf", "application/protobuf", "application/octet-stream"):
        try:
            req.ParseFromString(raw)
        except (DecodeError, ValueError) as exc:
            raise OtlpError(
                f"body is not an OTLP protobuf ExportTraceServiceRequest: {exc}"
            ) from None
        return req
    if ctype == "application/json":
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise OtlpError(f"body is not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise OtlpError("JSON body must be an object with resourceSpans")
        try:
            _hex_ids_to_base64(doc)
            json_format.ParseDict(doc, req)
        except (json_format.ParseError, AttributeError, TypeError, ValueError) as exc:
            raise OtlpError(f"JSON is not an OTLP ExportTraceServiceRequest: {exc}") from None
        return req
    raise OtlpError(
        f"content-type {ctype!r} is not OTLP; use application/x-protobuf or application/json",
        "encoding",
    )


def _id(raw: bytes, size: int) -> str | None:
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def _body(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = attrs.pop(k, None)
        if v is not None:
            return v if isinstance(v, str) else orjson.dumps(v).decode()
    return None


def _restore(attrs: dict[str, Any]) -> str | None:
    """An ORCA-exported span: its ORCA name, with the attributes the export added removed."""
    name = attrs.pop(names.ORCA_NAME, None)
    added = attrs.pop(names.ADDED, None)
    if isinstance(added, str):
        for k in added.split(","):
            attrs.pop(k, None)
    return name if isinstance(name, str) and name else None


def _span_records(
    sp: Span, trace: str, span: str, component: str, resource: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    parent = _id(sp.parent_span_id, 8) if sp.parent_span_id else None
    attrs = flat(sp.attributes)
    restored = _restore(attrs)
    request, response = _body(attrs, names.REQUEST_BODY), _body(attrs, names.RESPONSE_BODY)
    name = restored or names.orca_name(sp.name or "(unnamed)", attrs, parent is not None)
    if name != sp.name and not restored:
        attrs["otel.span.name"] = sp.name
    names.normalise(attrs)
    if parent is None:
        for k, v in resource.items():
            if k != "service.name":  # that one is the component
                attrs.setdefault(f"otel.resource.{k}", v)
    opened: dict[str, Any] = {
        "v": 1,
        "kind": "span-open",
        "ts": sp.start_time_unix_nano or sp.end_time_unix_nano,
        "component": component,
        "trace": trace,
        "span": span,
        "name": name,
    }
    if parent:
        opened["parent"] = parent
    if attrs:
        opened["attrs"] = attrs
    if request is not None:
        opened["body"] = request
    yield opened
    for ev in sp.events:
        ev_attrs = flat(ev.attributes)
        level = str(ev_attrs.pop("orca.log.level", "error" if ev.name == "exception" else "info"))
        if level not in ("debug", "info", "warn", "error"):
            level = "info"
        msg = str(ev_attrs.pop("exception.message", "")) or ev.name or "event"
        if ev.name and ev.name != msg:
            ev_attrs["otel.event.name"] = ev.name
        log: dict[str, Any] = {
            "v": 1,
            "kind": "log",
            "ts": ev.time_unix_nano or opened["ts"],
            "component": component,
            "level": level,
            "msg": msg,
            "trace": trace,
            "span": span,
        }
        if ev_attrs:
            log["attrs"] = ev_attrs
        yield log
    for ln in sp.links:
        to_trace, to_span = _id(ln.trace_id, 16), _id(ln.span_id, 8)
        if to_trace is None or to_span is None:
            continue
        ln_attrs = flat(ln.attributes)
        reason = ln_attrs.pop("orca.link.reason", None)
        link: dict[str, Any] = {
            "v": 1,
            "kind": "link",
            "ts": opened["ts"],
            "component": component,
            "trace": trace,
            "span": span,
            "to_trace": to_trace,
            "to_span": to_span,
            "reason": reason if isinstance(reason, str) else "otel.link",
        }
        if ln_attrs:
            link["attrs"] = ln_attrs
        yield link
    if sp.end_time_unix_nano:
        error = sp.status.code == Status.STATUS_CODE_ERROR
        close: dict[str, Any] = {
            "v": 1,
            "kind": "span-close",
            "ts": max(sp.end_time_unix_nano, opened["ts"]),
            "component": component,
            "trace": trace,
            "span": span,
            "status": "error" if error else "ok",
        }
        if error and sp.status.message:
            close["attrs"] = {"exception.message": sp.status.message}
        if response is not None:
            close["body"] = response
        yield close


def to_records(req: ExportTraceServiceRequest) -> Mapped:
    """Every span of ``req`` as ORCA records; spans with invalid ids are refused and counted."""
    out = Mapped()
    for rs in req.resource_spans:
        resource = flat(rs.resource.attributes)
        component = str(resource.get("service.name") or DEFAULT_COMPONENT)
        for ss in rs.scope_spans:
            for sp in ss.spans:
                out.spans += 1
                trace, span = _id(sp.trace_id, 16), _id(sp.span_id, 8)
                if trace is None or span is None:
                    out.rejected += 1
                    if len(out.reasons) < 5:
                        out.reasons.append(f"span {sp.name!r}: trace/span id missing or all zero")
                    continue
                if not sp.start_time_unix_nano and not sp.end_time_unix_nano:
                    out.rejected += 1
                    if len(out.reasons) < 5:
                        out.reasons.append(f"span {sp.name!r}: no start time")
                    continue
                out.records.extend(_span_records(sp, trace, span, component, resource))
    return out
