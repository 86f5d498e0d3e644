"""One HTTP exchange with a provider, recorded as a ``provider.request`` span.

Library-neutral: the transport wrappers hand over what they saw (method, URL,
headers, the body bytes as sent; then status, headers and body chunks as they
arrive) and this module turns it into attributes and bodies. Secrets are
masked here, at the call site, with :func:`orca.mask` — the journal's own
scrubber is only a backstop.

Recording never breaks a request: any error inside the recorder is counted
and swallowed, and the caller's response flows through untouched.
"""

import logging
import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import orjson

from orca.capture import Span, mask, note_tool_requests
from orca.integrations._overrides import Overrides
from orca.integrations._prefix import parse_request
from orca.integrations._pricing import PriceTable
from orca.integrations._usage import normalize_usage
from orca.integrations._wire import OPENAI, Wire

_log = logging.getLogger("orca.integrations")

SPAN_NAME: Final = "provider.request"  # the name of the span each provider call records
_SECRET_HEADER: Final = re.compile(r"auth|key|token|secret|cookie|session", re.IGNORECASE)
_DEFAULT_SECRET_FIELDS: Final = (
    "api_key",
    "apiKey",
    "api-key",
    "x-api-key",
    "authorization",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "password",
)
_PARAMS: Final = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "n": "gen_ai.request.choice.count",
    "stop": "gen_ai.request.stop_sequences",
    "stop_sequences": "gen_ai.request.stop_sequences",
    "top_k": "gen_ai.request.top_k",
    "tool_choice": "orca.request.tool_choice",
    "reasoning_effort": "orca.request.reasoning_effort",
}
ERROR_MESSAGE_CHARS: Final = 500


@dataclass
class Settings:
    """What an instrumented client records with; per-request values override these."""

    parent: Span | None = None
    logger: Any = None  # an orca Logger for root spans when there is no parent
    conversation_id: str | None = None
    cache_send: str = "real"
    provider: str = "openai"
    prices: PriceTable = field(default_factory=PriceTable)
    secret_fields: tuple[str, ...] = _DEFAULT_SECRET_FIELDS
    secrets: tuple[str, ...] = ()
    wire: Wire = OPENAI  # the API's shapes: OpenAI-compatible or Anthropic Messages
    errors: int = 0  # recorder failures swallowed so far
    unrecorded: int = 0  # requests passed through with nowhere to record them
    governor: Any = None  # an orca.integrations.Governor: admits each request before it is sent
    max_output_tokens: int = 4096  # the output estimate of a request that sets no max_tokens

    @cached_property
    def field_needles(self) -> tuple[bytes, ...]:
        """Cheap literal pre-check for :attr:`field_pattern`: the quoted names, lower-cased."""
        return tuple(b'"' + n.lower().encode() + b'"' for n in self.secret_fields)

    @cached_property
    def field_pattern(self) -> "re.Pattern[bytes]":
        """Matches ``"<secret field>": "<value>"`` anywhere in a JSON body."""
        names = b"|".join(re.escape(n.encode()) for n in self.secret_fields)
        return re.compile(rb'"(?:' + names + rb')"\s*:\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE)


_SECRET_NAMES: dict[str, bool] = {}


def _is_secret_header(name: str) -> bool:
    """Whether a (lower-cased) header name carries a credential; cached, names repeat."""
    known = _SECRET_NAMES.get(name)
    if known is None:
        known = _SECRET_HEADER.search(name) is not None
        if len(_SECRET_NAMES) < 1024:
            _SECRET_NAMES[name] = known
    return known


def header_value(name: str, value: str) -> str:
    """A header value fit to record: secrets masked, the auth scheme kept readable."""
    if not _is_secret_header(name.lower()):
        return value
    scheme, sep, token = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token", "key"):
        return f"{scheme} {mask(token)}"
    return mask(value)


def _secret_of(name: str, value: str) -> str:
    scheme, sep, token = value.partition(" ")
    return token if sep and scheme.lower() in ("bearer", "basic", "token", "key") else value


class Exchange:
    """The recorder of one request: opened before sending, closed when the body is done."""

    __slots__ = (
        "_chunks",
        "_done",
        "_encoding",
        "_first_chunk_ns",
        "_model",
        "_secrets",
        "_settings",
        "_started",
        "_status",
        "_stream",
        "_ttfb_ns",
        "span",
    )

    def __init__(
        self,
        opener: Callable[..., Span],
        settings: Settings,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        overrides: Overrides,
    ) -> None:
        self._settings = settings
        self._chunks: list[bytes] = []
        self._done = False
        self._status = 0
        self._ttfb_ns = 0
        self._first_chunk_ns = 0
        self._encoding: str | None = None
        self._started = time.perf_counter_ns()
        secrets = [s for s in settings.secrets if s]
        attrs: dict[str, object] = {
            "gen_ai.operation.name": _operation(url),
            "gen_ai.provider.name": settings.provider,
            "http.request.method": method,
            "url.full": url,
        }
        credentials: dict[str, object] = {}
        for name, value in headers:
            lname = name.lower()
            if _is_secret_header(lname):
                secrets.append(_secret_of(lname, value))
                credentials[f"http.request.header.{lname}"] = header_value(lname, value)
            else:
                attrs[f"http.request.header.{lname}"] = value
        conversation = overrides.conversation_id or settings.conversation_id
        if conversation:
            attrs["gen_ai.conversation.id"] = str(conversation)
        attrs["orca.cache.send"] = overrides.cache_send or settings.cache_send
        attrs["orca.request.bytes"] = len(body)
        request = parse_request(body)
        self._stream = False
        self._model: str | None = None
        if request is not None:
            data = request.data
            self._model = data.get("model") if isinstance(data.get("model"), str) else None
            self._stream = data.get("stream") is True
            if self._model:
                attrs["gen_ai.request.model"] = self._model
            attrs["orca.request.stream"] = self._stream
            for key, attr in _PARAMS.items():
                if key in data and data[key] is not None:
                    attrs[attr] = data[key]
            if "messages" in data or "tools" in data or "system" in data:
                prefix = request.prefix()
                attrs["orca.prefix.fingerprint"] = prefix.fingerprint
                attrs["orca.prefix.bytes"] = prefix.size
                attrs["orca.prefix.ranges"] = prefix.ranges_text
                attrs["orca.prefix.breakpoint"] = prefix.breakpoint
                if prefix.breakpoints:
                    attrs["orca.prefix.breakpoints"] = prefix.breakpoints_text
            answered = settings.wire.answered_calls(data)
            if answered:
                attrs["orca.tool_calls.answered"] = ",".join(answered)
            secrets.extend(self._field_secrets(body))
        self._secrets = tuple(dict.fromkeys(s for s in secrets if len(s) >= 4))
        self.span = opener(SPAN_NAME, attrs, body=self._masked(body))
        if credentials:
            # Masked credentials go with the (small) span-close record: a masked key still
            # looks like one, and the journal's backstop scan is costly on the large open line.
            self.span.set_attrs(credentials)

    def _field_secrets(self, body: bytes) -> list[str]:
        out: list[str] = []
        low = body.lower()
        if not any(name in low for name in self._settings.field_needles):
            return out
        for m in self._settings.field_pattern.finditer(body):
            raw = m.group(1)
            if raw:
                out.append(raw.decode("utf-8", "replace"))
        return out

    def _masked(self, raw: bytes) -> bytes:
        """``raw`` with every known secret masked in place, all other bytes untouched."""
        for secret in self._secrets:
            needle = secret.encode()
            if needle in raw:
                raw = raw.replace(needle, mask(secret).encode())
        return raw

    def response_started(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        self._ttfb_ns = time.perf_counter_ns() - self._started
        self._status = status
        attrs: dict[str, object] = {"http.response.status_code": status}
        for name, value in headers:
            lname = name.lower()
            if lname in ("content-type", "content-encoding") or lname.startswith(
                ("x-request-id", "x-ratelimit", "retry-after", "openai-", "anthropic-")
            ):
                attrs[f"http.response.header.{lname}"] = value
            if lname == "content-encoding":
                self._encoding = value
        self._stream = self._stream or "event-stream" in str(
            attrs.get("http.response.header.content-type", "")
        )
        self.span.set_attrs(attrs)

    def feed(self, chunk: bytes) -> None:
        if chunk:
            if not self._first_chunk_ns:
                self._first_chunk_ns = time.perf_counter_ns() - self._started
            self._chunks.append(chunk)

    def fail(self, exc: BaseException) -> None:
        """The transport raised: close the span as failed with whatever arrived."""
        if self._done:
            return
        self._done = True
        attrs = {"orca.latency_ms": _ms(time.perf_counter_ns() - self._started)}
        body = self._masked(b"".join(self._chunks)) if self._chunks else None
        self.span.end(attrs, body=body, error=exc)

    def finish(self, *, complete: bool = True) -> None:
        """The body is done (or the caller closed it early): close the span with the response."""
        if self._done:
            return
        self._done = True
        try:
            self._finish(complete)
        except Exception as exc:  # the recorder must never break the caller's request
            self._settings.errors += 1
            _log.warning("orca: could not record provider response: %r", exc)
            self.span.end({"orca.record.error": repr(exc)}, status="error")

    def _finish(self, complete: bool) -> None:
        raw = _decode(b"".join(self._chunks), self._encoding)
        attrs: dict[str, object] = {
            "orca.latency_ms": _ms(time.perf_counter_ns() - self._started),
            "orca.ttfb_ms": _ms(self._ttfb_ns),
            "orca.response.bytes": len(raw),
        }
        wire = self._settings.wire
        if not complete and not (self._stream and wire.complete(raw)):
            attrs["orca.response.complete"] = False  # the caller closed the body before its end
        ok = 200 <= self._status < 400
        body: bytes | str = raw
        doc: Any = None
        if ok and self._stream and raw.lstrip().startswith((b"data:", b"event:", b":")):
            doc, attrs["orca.stream.chunks"] = wire.reassemble(raw)
            if self._first_chunk_ns:
                attrs["orca.stream.first_chunk_ms"] = _ms(self._first_chunk_ns)
            body = orjson.dumps(doc)
        elif raw[:1] in (b"{", b"[") or raw.lstrip()[:1] == b"{":
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError:
                doc = None
        failed = not ok
        if isinstance(doc, dict):
            self._response_attrs(doc, attrs, ok)
            if ok and self._stream:
                failed = _stream_error(doc, attrs)
        if not ok:
            attrs.setdefault("error.type", str(self._status))
        self.span.end(
            attrs,
            body=self._masked(body if isinstance(body, bytes) else body.encode()),
            status="error" if failed else None,
        )

    def _response_attrs(self, doc: dict[str, Any], attrs: dict[str, object], ok: bool) -> None:
        if not ok or "error" in doc:
            err = doc.get("error")
            if isinstance(err, dict):
                kind = err.get("type") or err.get("code")
                if kind:
                    attrs["error.type"] = str(kind)
                if err.get("message"):
                    msg = self._masked(str(err["message"]).encode()).decode("utf-8", "replace")
                    attrs["error.message"] = msg[:ERROR_MESSAGE_CHARS]
            elif isinstance(err, str):
                attrs["error.message"] = err[:ERROR_MESSAGE_CHARS]
            if not ok:
                return
        if isinstance(doc.get("id"), str):
            attrs["gen_ai.response.id"] = doc["id"]
        model = doc.get("model") if isinstance(doc.get("model"), str) else None
        if model:
            attrs["gen_ai.response.model"] = model
        wire = self._settings.wire
        reasons = wire.finish_reasons(doc)
        requested = wire.requested_calls(doc)
        if reasons:
            attrs["gen_ai.response.finish_reasons"] = ",".join(reasons)
        if requested:
            attrs["orca.tool_calls.requested"] = ",".join(requested)
            note_tool_requests(self.span, requested)
        usage_doc = doc.get("usage")
        if isinstance(usage_doc, dict):
            usage = normalize_usage(usage_doc, doc)
            attrs["gen_ai.usage.input_tokens"] = usage.input
            attrs["gen_ai.usage.output_tokens"] = usage.output
            attrs["gen_ai.usage.cache_read.input_tokens"] = usage.cache_read
            attrs["gen_ai.usage.cache_write.input_tokens"] = usage.cache_write
            attrs["orca.usage.uncached_input_tokens"] = usage.uncached
            if usage.reasoning is not None:
                attrs["orca.usage.reasoning_tokens"] = usage.reasoning
            settings = self._settings
            cost = settings.prices.cost(usage, model or self._model, settings.provider)
            attrs["orca.cost.source"] = cost.source
            if cost.usd is not None:
                attrs["orca.cost.usd"] = round(cost.usd, 10)


def _stream_error(doc: dict[str, Any], attrs: dict[str, object]) -> bool:
    """An error event inside a 200 stream (Anthropic's mid-stream ``overloaded_error``)."""
    for err in doc.get("errors") or ():
        if isinstance(err, dict) and "unparsed_event" not in err:
            attrs["error.type"] = str(err.get("type") or err.get("code") or "stream_error")
            if err.get("message"):
                attrs["error.message"] = str(err["message"])[:ERROR_MESSAGE_CHARS]
            return True
    return False


def _operation(url: str) -> str:
    path = url.split("?", 1)[0].rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/embeddings"):
        return "embeddings"
    if path.endswith("/completions"):
        return "text_completion"
    if path.endswith("/responses") or path.endswith("/messages"):
        return "chat"
    return path.rsplit("/", 1)[-1] or "request"


def _decode(raw: bytes, encoding: object) -> bytes:
    """Undo gzip/deflate transfer compression so the recorded body is readable JSON."""
    if not raw or not isinstance(encoding, str):
        return raw
    enc = encoding.lower().strip()
    try:
        if enc == "gzip":
            return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        if enc == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, -zlib.MAX_WBITS)
    except zlib.error:
        return raw
    return raw


def _ms(ns: int) -> float:
    return round(ns / 1e6, 3)
