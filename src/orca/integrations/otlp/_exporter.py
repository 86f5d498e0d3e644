"""Sending stored traces to an OTLP/HTTP endpoint: once, or following the store, resumably.

The store is handed in as a value (:class:`TraceSource`, which ``orca.store``'s
reader satisfies), so this room needs no store import. A trace is sent whole, as
one protobuf request, once it has no open span (a crashed trace counts as done:
its crash span closed it); the cursor file (``<home>/export/otlp-<endpoint
hash>.json``, written by temp file + rename) remembers which traces went out
with how many spans, so a restart resumes and a trace that grew (a late crash
span) is sent again — at least once, never silently skipped. Transient failures
(connection errors, 429, 5xx) are retried with capped exponential backoff,
honouring ``Retry-After``; a 4xx is the endpoint refusing the data and stops.
"""

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from orca.errors import UsageError
from orca.integrations.otlp._export import LinkLike, LogLike, SpanLike, to_request

MAX_ATTEMPTS = 6


class ExportError(UsageError):
    """The endpoint refused the data, or stayed unreachable after retries."""


class SummaryLike(Protocol):
    @property
    def trace_id(self) -> str: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def span_count(self) -> int: ...
    @property
    def unfinished_count(self) -> int: ...
    @property
    def status(self) -> str: ...


class SpanWithBodies(SpanLike, Protocol):
    @property
    def request_body(self) -> str | None: ...
    @property
    def response_body(self) -> str | None: ...


class TraceLike(Protocol):
    @property
    def spans(self) -> Sequence[SpanWithBodies]: ...
    @property
    def logs(self) -> Sequence[LogLike]: ...
    @property
    def links(self) -> Sequence[LinkLike]: ...


class TraceSource(Protocol):
    def list_traces(self, *, limit: int | None = ..., since_ns: int | None = ...) -> Any: ...
    def get_trace(self, trace_id: str) -> Any: ...
    def get_body(self, sha256: str) -> bytes | None: ...


def traces_url(endpoint: str) -> str:
    """``http://host:4318`` → ``http://host:4318/v1/traces``; a URL with a path is kept."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"endpoint {endpoint!r}: give an http(s) URL, e.g. http://127.0.0.1:4318")
    path = parts.path if parts.path not in ("", "/") else "/v1/traces"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


@dataclass(slots=True)
class Cursor:
    """Which traces went out (id → span count), persisted beside the home."""

    path: Path
    sent: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, home: Path, endpoint: str) -> "Cursor":
        tag = hashlib.sha256(endpoint.encode()).hexdigest()[:12]
        path = home / "export" / f"otlp-{tag}.json"
        sent: dict[str, int] = {}
        if path.exists():
            try:
                doc = orjson.loads(path.read_bytes())
                sent = {str(k): int(v) for k, v in doc.get("sent", {}).items()}
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                raise UsageError(
                    f"export cursor {path} is damaged; delete it to resend all"
                ) from None
        return cls(path, sent)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(orjson.dumps({"sent": self.sent}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "backslashreplace")


def request_bytes(source: TraceSource, trace: TraceLike, with_bodies: bool) -> bytes:
    """One trace as a serialised OTLP request."""
    logs: dict[str, list[LogLike]] = {}
    for lg in trace.logs:
        if lg.span_id:
            logs.setdefault(lg.span_id, []).append(lg)
    links: dict[str, list[LinkLike]] = {}
    for ln in trace.links:
        links.setdefault(ln.span_id, []).append(ln)
    bodies: Mapping[str, tuple[str | None, str | None]] | None = None
    if with_bodies:
        bodies = {
            s.span_id: (
                _text(source.get_body(s.request_body)) if s.request_body else None,
                _text(source.get_body(s.response_body)) if s.response_body else None,
            )
            for s in trace.spans
        }
    return to_request(trace.spans, logs=logs, links=links, bodies=bodies).SerializeToString()


@dataclass(slots=True)
class Exporter:
    """Sends traces from ``source`` to ``endpoint``; :meth:`step` does one pass and says what."""

    endpoint: str
    cursor: Cursor
    with_bodies: bool = False
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))
    sleep: Callable[[float], None] = time.sleep
    sent_spans: int = 0

    def post(self, body: bytes) -> None:
        """POST one request, retrying transient failures with capped backoff."""
        url = traces_url(self.endpoint)
        delay = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                r = self.client.post(
                    url, content=body, headers={"content-type": "application/x-protobuf"}
                )
            except httpx.HTTPError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise ExportError(f"{url} unreachable after {attempt} tries: {exc}") from None
            else:
                if r.status_code < 300:
                    return
                if r.status_code != 429 and r.status_code < 500:
                    raise ExportError(f"{url} refused the spans: {r.status_code} {r.text[:200]}")
                if attempt == MAX_ATTEMPTS:
                    raise ExportError(f"{url} still answers {r.status_code} after {attempt} tries")
                retry_after = r.headers.get("retry-after", "")
                if retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            self.sleep(min(delay, 30.0))
            delay *= 2

    def pending(
        self, source: TraceSource, *, trace_ids: Sequence[str] | None, since_ns: int | None
    ) -> Iterator[str]:
        """Trace ids to send: finished, and not yet sent with as many spans."""
        if trace_ids is not None:
            yield from trace_ids
            return
        for s in reversed(source.list_traces(limit=None, since_ns=since_ns)):
            if s.unfinished_count and s.status != "crashed":
                continue  # still running: sent once it has no open span
            if self.cursor.sent.get(s.trace_id) != s.span_count:
                yield s.trace_id

    def step(
        self,
        source: TraceSource,
        *,
        trace_ids: Sequence[str] | None = None,
        since_ns: int | None = None,
    ) -> int:
        """Send what is pending (oldest first); returns how many traces went out."""
        n = 0
        for tid in list(self.pending(source, trace_ids=trace_ids, since_ns=since_ns)):
            trace = source.get_trace(tid)
            if trace is None:
                continue
            self.post(request_bytes(source, trace, self.with_bodies))
            self.cursor.sent[tid] = len(trace.spans)
            self.cursor.save()
            self.sent_spans += len(trace.spans)
            n += 1
        return n
