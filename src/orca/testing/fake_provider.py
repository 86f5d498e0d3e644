"""A small, real OpenAI-compatible and Anthropic server on 127.0.0.1 that plays a script.

It serves ``POST /v1/chat/completions`` and Anthropic's ``POST /v1/messages``
(plain JSON, or Server-Sent Events when the request asks for ``stream``),
answers from a queue of scripted
:class:`Reply` objects (text, tool calls, usage with prompt-cache fields, a
provider-reported cost, or an HTTP error with a raw body), and keeps the exact
bytes of every request it received, so a test can compare them with what was
recorded. No network and no key needed: tests, the benchmark and the examples
all talk to it.

When a reply does not script its usage, the server makes one up the way a
prefix-caching provider would: ~4 bytes a token, and cached tokens for the
longest byte prefix shared with an earlier request (in blocks, above a
minimum), so a changed prefix shows up as a cache miss.
"""

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from orca.testing import _anthropic

CHAT_PATH: Final = "/v1/chat/completions"
_BYTES_PER_TOKEN: Final = 4
_CACHE_LOOKBACK: Final = 8  # earlier requests a new one is compared with


@dataclass
class Reply:
    """One scripted answer. ``status >= 400`` sends ``body`` (or a standard error body)."""

    content: str = "ok"
    tool_calls: Sequence[Mapping[str, str]] = ()  # {"id", "name", "arguments"}
    finish_reason: str | None = None  # default: "tool_calls" when there are any, else "stop"
    usage: Mapping[str, Any] | None = None  # None: made up from the request (see module doc)
    cost: float | None = None  # a provider-reported cost, sent as usage.cost
    status: int = 200
    body: bytes | str | Mapping[str, Any] | None = None  # raw body, replacing the generated one
    headers: Mapping[str, str] = field(default_factory=dict)
    chunk_chars: int = 8  # streamed content is cut into pieces of this many characters
    model: str | None = None  # default: the requested model
    stream_error: Mapping[str, str] | None = None  # Anthropic: an error event ending the stream

    @classmethod
    def anthropic_error(cls, status: int, message: str, type: str) -> "Reply":
        """An HTTP error with an Anthropic-style body (``{"type": "error", "error": {...}}``)."""
        return cls(status=status, body=_anthropic.error_body(message, type))

    @classmethod
    def overloaded(cls) -> "Reply":
        """Anthropic's 529: the API is overloaded right now."""
        return cls.anthropic_error(529, "Overloaded", "overloaded_error")

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> "Reply":
        """An HTTP error with an OpenAI-style error body."""
        body = {"error": {"message": message, "type": type, "param": None, "code": code}}
        return cls(status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def rate_limited(cls, retry_after_ms: int = 1, model: str = "gpt-4o") -> "Reply":
        """A 429 as OpenAI sends it, with a ``retry-after-ms`` the client honours."""
        message = (
            f"Rate limit reached for {model} in organization org-fake on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 1ms."
        )
        headers = {"retry-after-ms": str(retry_after_ms), "x-ratelimit-remaining-requests": "0"}
        return cls.error(429, message, "requests", "rate_limit_exceeded", headers)

    @classmethod
    def context_overflow(cls, window: int = 128_000, asked: int = 130_512) -> "Reply":
        """A 400 refusing a request over the context window, in OpenAI's words."""
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {asked} tokens. Please reduce the length of the messages."
        )
        return cls.error(400, message, "invalid_request_error", "context_length_exceeded")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived: the exact body bytes and the headers (names lower-cased)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeProvider:
    """The server. Use as a context manager; ``base_url`` is what a client points at."""

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        default: Reply | None = None,
        cache_min_tokens: int = 1024,
        cache_block_tokens: int = 128,
    ) -> None:
        self._script: deque[Reply] = deque(script)
        self.default = default or Reply()
        self.cache_min_tokens = cache_min_tokens
        self.cache_block_tokens = cache_block_tokens
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0
        self.prompt_cache = _anthropic.PromptCache()  # what /v1/messages requests wrote

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "FakeProvider":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.provider = self  # type: ignore[attr-defined]  # read by the handler
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeProvider is not running: use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: the ``base_url`` of an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        """Add replies to the end of the script."""
        with self._lock:
            self._script.extend(replies)

    # --- answering -------------------------------------------------------------------
    def _take(self, request: ReceivedRequest) -> tuple[Reply, int]:
        with self._lock:
            self.requests.append(request)
            reply = self._script.popleft() if self._script else self.default
            self._counter += 1
            cached = self._shared_prefix_tokens(request.body)
            return reply, cached if reply.usage is None else 0

    def _shared_prefix_tokens(self, body: bytes) -> int:
        best = 0
        for earlier in self.requests[-1 - _CACHE_LOOKBACK : -1]:
            best = max(best, _common_prefix(earlier.body, body))
        tokens = best // _BYTES_PER_TOKEN
        if tokens < self.cache_min_tokens:
            return 0
        return tokens - tokens % max(self.cache_block_tokens, 1)

    def _usage(self, reply: Reply, request: ReceivedRequest, cached: int) -> dict[str, Any]:
        if reply.usage is not None:
            usage = dict(reply.usage)
        else:
            prompt = max(len(request.body) // _BYTES_PER_TOKEN, 1)
            said = reply.content + "".join(c.get("arguments", "{}") for c in reply.tool_calls)
            completion = max(len(said) // _BYTES_PER_TOKEN, 1) if said else 0
            usage = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": min(cached, prompt)},
            }
        if reply.cost is not None:
            usage["cost"] = reply.cost
        return usage


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on slice equality: C-speed compares
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is normal here (a test closing a stream)."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "orca-fake-provider/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read records
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = ReceivedRequest("POST", self.path, headers, body)
        provider: FakeProvider = self.server.provider  # type: ignore[attr-defined]
        route = self.path.split("?")[0]
        if route not in (CHAT_PATH, _anthropic.MESSAGES_PATH):
            self._send(404, _error_body(f"no route {self.path}", "not_found"), {})
            return
        reply, cached = provider._take(request)
        anthropic = route == _anthropic.MESSAGES_PATH
        if reply.status >= 400 or reply.body is not None:
            raw = reply.body
            if raw is None:
                message, kind = f"scripted error {reply.status}", "api_error"
                raw = (
                    _anthropic.error_body(message, kind)
                    if anthropic
                    else _error_body(message, "server_error")
                )
            self._send(reply.status, _as_bytes(raw), reply.headers)
            return
        try:
            asked = json.loads(body)
        except ValueError:
            self._send(400, _error_body("request body is not JSON", "invalid_request_error"), {})
            return
        model = reply.model or str(asked.get("model") or "fake-model")
        if anthropic:
            self._messages(provider, request, reply, cached, asked, model)
            return
        usage = provider._usage(reply, request, cached)
        provider_id = f"chatcmpl-fake{len(provider.requests)}"
        if asked.get("stream"):
            opts = asked.get("stream_options") or {}
            with_usage = bool(isinstance(opts, dict) and opts.get("include_usage"))
            events = _stream_events(reply, model, provider_id, usage if with_usage else None)
            self._send_stream(reply.status, events, reply.headers)
        else:
            self._send(reply.status, _completion(reply, model, provider_id, usage), reply.headers)

    def _messages(
        self,
        provider: "FakeProvider",
        request: ReceivedRequest,
        reply: Reply,
        cached: int,
        asked: Any,
        model: str,
    ) -> None:
        with provider._lock:
            use = _anthropic.usage(
                reply, asked, request.body, provider.prompt_cache, provider.cache_min_tokens
            )
        message_id = f"msg_fake{len(provider.requests)}"
        if isinstance(asked, dict) and asked.get("stream"):
            events = _anthropic.events(reply, model, message_id, use)
            self._send_stream(reply.status, events, reply.headers)
        else:
            doc = _anthropic.message(reply, model, message_id, use)
            self._send(reply.status, doc, reply.headers)

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_stream(
        self, status: int, events: Iterator[bytes], headers: Mapping[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        for event in events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def _as_bytes(raw: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode()
    return json.dumps(raw).encode()


def _error_body(message: str, type: str) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type, "param": None, "code": None}}
    ).encode()


def _finish(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _completion(reply: Reply, model: str, provider_id: str, usage: Mapping[str, Any]) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call.get("arguments", "{}")},
            }
            for call in reply.tool_calls
        ]
    doc = {
        "id": provider_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": _finish(reply), "logprobs": None}
        ],
        "usage": dict(usage),
    }
    return json.dumps(doc).encode()


def _stream_events(
    reply: Reply, model: str, provider_id: str, usage: Mapping[str, Any] | None
) -> Iterator[bytes]:
    created = int(time.time())

    def chunk(delta: Mapping[str, Any], finish: str | None = None) -> bytes:
        doc = {
            "id": provider_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": dict(delta), "finish_reason": finish}],
        }
        return b"data: " + json.dumps(doc).encode() + b"\n\n"

    yield chunk({"role": "assistant", "content": ""})
    step = max(reply.chunk_chars, 1)
    for i in range(0, len(reply.content), step):
        yield chunk({"content": reply.content[i : i + step]})
    for index, call in enumerate(reply.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        arguments = call.get("arguments", "{}")
        for i in range(0, len(arguments), step):
            part = {"index": index, "function": {"arguments": arguments[i : i + step]}}
            yield chunk({"tool_calls": [part]})
    yield chunk({}, _finish(reply))
    if usage is not None:
        doc = {
            "id": provider_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": dict(usage),
        }
        yield b"data: " + json.dumps(doc).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"
