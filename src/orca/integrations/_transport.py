"""Transport wrappers: the last hop before the bytes go on the wire.

An httpx-style client hands its transport the final request (after every
transform its caller applied), so this is where the verbatim body is read.
The wrappers are duck-typed over ``httpx`` and ``httpx2`` (the official
``openai`` client moved to the latter): anything with ``handle_request`` or
``handle_async_request`` can be wrapped. The response body is not buffered:
a stream wrapper passes every chunk through as it arrives and closes the
span when the caller has read (or closed) the body.
"""

import importlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple, Protocol

import orjson

from orca.capture import NoopSpan, current_span, safe_warn
from orca.integrations._exchange import Exchange, Settings
from orca.integrations._govern import Admission, Settlement, provider_call
from orca.integrations._overrides import Overrides, current_overrides

_log = logging.getLogger("orca.integrations")
_STREAM_CLASSES: dict[tuple[str, bool, type], type] = {}


def _opener(settings: Settings, overrides: Overrides) -> Any:
    """What opens the span: the parent's ``child``, else the logger's ``span`` (a new trace).

    With neither, the request passes through unrecorded: counted on the
    client's settings and warned about once per client.
    """
    parent = overrides.parent or settings.parent or current_span()
    if parent is not None:
        return None if isinstance(parent, NoopSpan) else parent.child
    if settings.logger is not None:
        return settings.logger.span
    settings.unrecorded += 1
    if settings.unrecorded == 1:
        safe_warn(
            "orca: instrumented client has no parent span, current span or logger; "
            "its provider requests are not recorded (pass parent= or logger= to instrument())",
            stacklevel=4,
        )
    return None


def _begin(settings: Settings, request: Any, body: bytes) -> Exchange | None:
    """Open the span for ``request``; None when there is nothing to record into."""
    overrides = current_overrides()
    opener = _opener(settings, overrides)
    if opener is None:  # nowhere to record, or recording disabled: pass straight through
        return None
    try:
        exchange = Exchange(
            opener,
            settings,
            str(request.method),
            str(request.url),
            request.headers.multi_items(),
            body,
            overrides,
        )
        seen = overrides.seen
        if seen is not None:  # a framework span wants to know a provider.request nests in it
            seen.append(exchange.span)
        return exchange
    except Exception as exc:
        settings.errors += 1
        _log.warning("orca: could not record provider request: %r", exc)
        return None


def _stream_class(response: Any, is_async: bool) -> type:
    """A subclass of the response's own library's byte-stream base (its client asserts it)."""
    module = type(response).__module__.split(".", 1)[0]
    mixin = _AsyncTapped if is_async else _SyncTapped
    key = (module, is_async, mixin)
    cls = _STREAM_CLASSES.get(key)
    if cls is None:
        lib = importlib.import_module(module)
        base = lib.AsyncByteStream if is_async else lib.SyncByteStream
        cls = type(f"Orca{mixin.__name__}", (mixin, base), {})
        _STREAM_CLASSES[key] = cls
    return cls


def _admit(settings: Settings, request: Any, body: bytes) -> tuple[Any, bytes, Admission | None]:
    """Ask the governor before anything is sent; it raises to refuse (and so nothing is sent).

    An admitted replacement body (redacted, capped) becomes the request that goes out.
    """
    governor = settings.governor
    if governor is None:
        return request, body, None
    call = provider_call(
        settings.provider, str(request.url), body, settings.prices, settings.max_output_tokens
    )
    try:
        admission = governor.admit_provider_request(call)
    except BaseException as exc:
        _policy_span(settings, getattr(exc, "decision", None), exc)
        raise
    _policy_span(settings, getattr(admission, "decision", None), None)
    if admission.body is not None:
        try:
            body = orjson.dumps(admission.body)
            headers = [
                (k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"
            ]
            request = type(request)(
                request.method,
                request.url,
                headers=headers,
                content=body,
                extensions=request.extensions,
            )
        except BaseException:
            admission.release()
            raise
    return request, body, admission


def _policy_span(settings: Settings, decision: Any, error: BaseException | None) -> None:
    """A ``policy.check`` span beside the request: the decision and its rule (never the body)."""
    try:
        opener = _opener(settings, current_overrides())
        if opener is None:
            return
        attrs: dict[str, Any] = {"orca.policy.phase": "pre_provider_request"}
        span_attrs = getattr(decision, "span_attrs", None)
        if callable(span_attrs):
            attrs.update(span_attrs())
        elif error is not None:
            attrs["orca.policy.decision"] = "deny"
        span = opener("policy.check", attrs)
        if error is not None:
            span.end({"orca.policy.refused": type(error).__name__}, status="error")
        else:
            span.end()
    except Exception as exc:  # recording never breaks (nor unblocks) a request
        settings.errors += 1
        _log.warning("orca: could not record policy.check: %r", exc)


def _failed(admission: Admission | None, exc: BaseException) -> None:
    """The transport raised: nothing reached the provider on a connect error, else maybe it did."""
    if admission is None:
        return
    if "connect" in type(exc).__name__.lower():
        admission.release()
    else:
        admission.settle_estimate()


def _settle_on_read(
    response: Any, admission: Admission | None, settings: Settings, body: bytes, is_async: bool
) -> None:
    """Wrap the body so the admission settles from the usage the response reports."""
    if admission is None:
        return
    if response.status_code >= 400:
        admission.release()  # refused by the provider: nothing was produced
        return
    encoding = response.headers.get("content-encoding")
    settlement = Settlement(
        admission, _model(body), settings.prices, encoding, settings.wire.reassemble
    )
    response.stream = _stream_class(response, is_async)(response.stream, settlement)


class _Tap(Protocol):
    """What a response body is fed to as it passes: an Exchange or a Settlement."""

    def feed(self, chunk: bytes) -> None: ...

    def fail(self, exc: BaseException) -> None: ...

    def finish(self, *, complete: bool = True) -> None: ...


class _SyncTapped:
    """Passes the body through chunk by chunk, feeding the tap; finishes it at the end."""

    def __init__(self, inner: Any, tap: _Tap) -> None:
        self._inner = inner
        self._tap = tap
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        feed = self._tap.feed
        try:
            for chunk in self._inner:
                feed(chunk)
                yield chunk
        except BaseException as exc:
            self._tap.fail(exc)
            raise
        self._complete = True
        self._tap.finish()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._tap.finish(complete=self._complete)


class _AsyncTapped:
    """:class:`_SyncTapped` for an async body."""

    def __init__(self, inner: Any, tap: _Tap) -> None:
        self._inner = inner
        self._tap = tap
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        feed = self._tap.feed
        try:
            async for chunk in self._inner:
                feed(chunk)
                yield chunk
        except BaseException as exc:
            self._tap.fail(exc)
            raise
        self._complete = True
        self._tap.finish()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._tap.finish(complete=self._complete)


def _model(body: bytes) -> str | None:
    """The request's model, for pricing the settled usage (cheap: only when governed)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    model = doc.get("model") if isinstance(doc, dict) else None
    return model if isinstance(model, str) else None


def _body(request: Any) -> bytes:
    try:
        return bytes(request.content)
    except Exception:  # a streaming request body not read yet
        return bytes(request.read())


class _Sent(NamedTuple):
    """A request about to go out: as admitted, its body, its admission and its recorder."""

    request: Any
    body: bytes
    admission: Admission | None
    exchange: Exchange | None


def _send(settings: Settings, request: Any, body: bytes) -> _Sent:
    """Admit (the governor may refuse: nothing is sent) and open the span."""
    request, body, admission = _admit(settings, request, body)
    return _Sent(request, body, admission, _begin(settings, request, body))


def _raised(sent: _Sent, exc: BaseException) -> None:
    """The inner transport raised: settle or release the admission, close the span failed."""
    _failed(sent.admission, exc)
    if sent.exchange is not None:
        sent.exchange.fail(exc)


def _received(settings: Settings, sent: _Sent, response: Any, is_async: bool) -> Any:
    """Wrap the response body so it settles the admission and closes the span as it is read."""
    _settle_on_read(response, sent.admission, settings, sent.body, is_async)
    exchange = sent.exchange
    if exchange is not None:
        exchange.response_started(response.status_code, response.headers.multi_items())
        response.stream = _stream_class(response, is_async)(response.stream, exchange)
    return response


class OrcaTransport:
    """Wraps a sync transport: every request becomes a ``provider.request`` span."""

    def __init__(self, inner: Any, settings: Settings | None = None) -> None:
        self.inner = inner
        self.settings = settings or Settings()

    def handle_request(self, request: Any) -> Any:
        sent = _send(self.settings, request, _body(request))
        try:
            response = self.inner.handle_request(sent.request)
        except BaseException as exc:
            _raised(sent, exc)
            raise
        return _received(self.settings, sent, response, False)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> "OrcaTransport":
        self.inner.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self.inner.__exit__(*args)


class AsyncOrcaTransport:
    """Wraps an async transport: every request becomes a ``provider.request`` span."""

    def __init__(self, inner: Any, settings: Settings | None = None) -> None:
        self.inner = inner
        self.settings = settings or Settings()

    async def handle_async_request(self, request: Any) -> Any:
        try:
            body = bytes(request.content)
        except Exception:
            body = bytes(await request.aread())
        sent = _send(self.settings, request, body)
        try:
            response = await self.inner.handle_async_request(sent.request)
        except BaseException as exc:
            _raised(sent, exc)
            raise
        return _received(self.settings, sent, response, True)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> "AsyncOrcaTransport":
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.inner.__aexit__(*args)
