"""ORCA spans → OTLP: one ``ExportTraceServiceRequest`` that any OTLP backend accepts.

Spans are grouped by component (the OTel ``service.name``), named the GenAI way
(``chat {model}``, ``execute_tool {name}``, ``invoke_agent {name}``), their logs
become span events and their links OTel links. Bodies travel only when asked
(``with_bodies``), as ``gen_ai.input.messages`` / ``gen_ai.output.messages``,
exactly as the store holds them (already masked). The rows are read through
small protocols, so this module needs no store: the caller hands rows over.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from orca._version import __version__
from orca.integrations.otlp import _names as names
from orca.integrations.otlp._values import any_value, key_values

LEVEL_ATTR = "orca.log.level"
REASON_ATTR = "orca.link.reason"


class SpanLike(Protocol):
    @property
    def trace_id(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def component(self) -> str: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def end_ns(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...


class LogLike(Protocol):
    @property
    def ts_ns(self) -> int: ...
    @property
    def level(self) -> str: ...
    @property
    def msg(self) -> str: ...
    @property
    def span_id(self) -> str | None: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...


class LinkLike(Protocol):
    @property
    def span_id(self) -> str: ...
    @property
    def to_trace_id(self) -> str: ...
    @property
    def to_span_id(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...


def _span(
    s: SpanLike,
    logs: Iterable[LogLike],
    links: Iterable[LinkLike],
    bodies: tuple[str | None, str | None] | None,
) -> Span:
    attrs = dict(s.attrs)
    name, added = names.otel_name(s.name, attrs, s.component)
    if bodies is not None:
        request, response = bodies
        if request is not None:
            attrs[names.REQUEST_BODY[0]] = request
        if response is not None:
            attrs[names.RESPONSE_BODY[0]] = response
    attrs.update(added)
    attrs[names.ORCA_NAME] = s.name
    if added:
        attrs[names.ADDED] = ",".join(added)
    out = Span(
        trace_id=bytes.fromhex(s.trace_id),
        span_id=bytes.fromhex(s.span_id),
        name=name,
        kind=Span.SPAN_KIND_CLIENT if s.name == names.PROVIDER else Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=s.start_ns,
        end_time_unix_nano=s.end_ns or 0,
        attributes=key_values(attrs),
    )
    if s.parent_id:
        out.parent_span_id = bytes.fromhex(s.parent_id)
    if s.status == "error":
        msg = attrs.get("exception.message")
        out.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=str(msg or "")))
    elif s.status == "ok":
        out.status.CopyFrom(Status(code=Status.STATUS_CODE_OK))
    for lg in logs:
        ev = out.events.add(time_unix_nano=lg.ts_ns, name=lg.msg)
        ev.attributes.extend(key_values({**lg.attrs, LEVEL_ATTR: lg.level}))
    for ln in links:
        link = out.links.add(
            trace_id=bytes.fromhex(ln.to_trace_id), span_id=bytes.fromhex(ln.to_span_id)
        )
        link.attributes.extend(key_values({**ln.attrs, REASON_ATTR: ln.reason or ""}))
    return out


def to_request(
    spans: Iterable[SpanLike],
    *,
    logs: Mapping[str, list[LogLike]] | None = None,
    links: Mapping[str, list[LinkLike]] | None = None,
    bodies: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> ExportTraceServiceRequest:
    """One request holding ``spans`` (logs and outgoing links keyed by span id).

    ``bodies`` (span id → request text, response text) is given only when the
    caller exports bodies; spans not in it travel without.
    """
    by_component: dict[str, list[Span]] = {}
    for s in spans:
        by_component.setdefault(s.component, []).append(
            _span(
                s,
                (logs or {}).get(s.span_id, ()),
                (links or {}).get(s.span_id, ()),
                None if bodies is None else bodies.get(s.span_id),
            )
        )
    req = ExportTraceServiceRequest()
    scope = InstrumentationScope(name="orca", version=__version__)
    for component, otel_spans in by_component.items():
        resource = Resource(attributes=[KeyValue(key="service.name", value=any_value(component))])
        req.resource_spans.append(
            ResourceSpans(
                resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=otel_spans)]
            )
        )
    return req
