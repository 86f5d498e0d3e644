"""Record every call an OpenAI(-compatible) client makes, verbatim, at the HTTP edge.

One line::

    client = orca.integrations.openai.instrument(OpenAI(...), parent=step)

wraps the client's HTTP transport (sync or async, ``httpx`` or ``httpx2``) so
each request becomes a ``provider.request`` span: the request body exactly as
sent, headers with secrets masked, the raw response (a stream reassembled),
status, latency, time to first byte, usage with cached tokens, cost, and the
cache-bust evidence (``orca.prefix.fingerprint``). Per-request settings
(parent span, conversation id, a cache-warming send) go in a
:func:`request_context` block. See ``docs/provider-capture.md``.

This module never imports ``openai`` or ``httpx``: it works on whatever
client object it is handed.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from orca._home import resolve_home
from orca.capture import Logger, Span
from orca.errors import OrcaError
from orca.integrations._exchange import SPAN_NAME, Settings, header_value
from orca.integrations._govern import DEFAULT_MAX_OUTPUT_TOKENS, Governor
from orca.integrations._pricing import PriceTable
from orca.integrations._transport import (
    AsyncOrcaTransport,
    OrcaTransport,
    reset_overrides,
    set_overrides,
)

__all__ = [
    "SPAN_NAME",
    "AsyncOrcaTransport",
    "InstrumentError",
    "OrcaTransport",
    "Settings",
    "header_value",
    "instrument",
    "request_context",
    "settings_of",
]

C = TypeVar("C")
CacheSend = Literal["warm", "real"]


class InstrumentError(OrcaError):
    """The object handed to :func:`instrument` has no HTTP transport we know how to wrap."""


def _http_client(client: Any) -> Any:
    inner = getattr(client, "_client", None)
    if inner is not None and hasattr(inner, "_transport"):
        return inner  # an openai.OpenAI / AsyncOpenAI (or compatible) client
    if hasattr(client, "_transport"):
        return client  # an httpx / httpx2 Client or AsyncClient
    raise InstrumentError(
        f"cannot instrument {type(client).__name__}: expected an OpenAI client or an "
        "httpx Client; or pass transport=OrcaTransport(...) to your own client"
    )


def _wrap(transport: Any, settings: Settings) -> Any:
    if isinstance(transport, OrcaTransport | AsyncOrcaTransport):
        transport.settings = settings  # instrumenting twice re-configures, never double-records
        return transport
    if hasattr(transport, "handle_async_request"):
        return AsyncOrcaTransport(transport, settings)
    if hasattr(transport, "handle_request"):
        return OrcaTransport(transport, settings)
    raise InstrumentError(f"transport {type(transport).__name__} has no handle_request method")


def instrument(
    client: C,
    parent: Span | None = None,
    *,
    logger: Logger | None = None,
    conversation_id: str | None = None,
    cache_send: CacheSend = "real",
    provider: str = "openai",
    home: str | Path | None = None,
    prices: PriceTable | None = None,
    secret_fields: Sequence[str] = (),
    secrets: Sequence[str] = (),
    governor: Governor | None = None,
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
) -> C:
    """Record the client's requests; returns the same client, instrumented in place.

    Spans are children of ``parent``, else of the span a :func:`request_context`
    names, else of the current span (a ``with span:`` block), else roots of
    new traces made by ``logger``; with none of these nothing is recorded.
    ``prices`` defaults to the built-in table overridden by
    ``<home>/prices.toml``. ``secret_fields`` adds JSON body keys whose string
    values are masked (``api_key``, ``password``, … are masked already);
    ``secrets`` adds literal values to mask wherever they appear.

    ``governor`` (an orchestrator, or ``orca.governance.Guard``) admits each
    request before any byte is sent — policy (``pre_provider_request``) and a
    budget reservation of its worst case (``max_tokens``, else
    ``max_output_tokens``) — and settles it from the reported usage; a refused
    request raises the governor's error and never reaches the network.
    """
    if cache_send not in ("warm", "real"):
        raise InstrumentError(f"cache_send must be 'warm' or 'real', not {cache_send!r}")
    table = prices if prices is not None else PriceTable.load(resolve_home(home))
    settings = Settings(
        parent=parent,
        logger=logger,
        conversation_id=conversation_id,
        cache_send=cache_send,
        provider=provider,
        prices=table,
        secret_fields=Settings().secret_fields + tuple(secret_fields),
        secrets=tuple(secrets),
        governor=governor,
        max_output_tokens=max_output_tokens,
    )
    http = _http_client(client)
    http._transport = _wrap(http._transport, settings)
    mounts = getattr(http, "_mounts", None)
    if isinstance(mounts, dict):
        for pattern, transport in list(mounts.items()):
            if transport is not None:
                mounts[pattern] = _wrap(transport, settings)
    return client


def settings_of(client: Any) -> Settings | None:
    """The recording settings of an instrumented client (None when it is not instrumented)."""
    try:
        transport = _http_client(client)._transport
    except InstrumentError:
        return None
    return getattr(transport, "settings", None)


@contextmanager
def request_context(
    *,
    parent: Span | None = None,
    conversation_id: str | None = None,
    cache_send: CacheSend | None = None,
) -> Iterator[None]:
    """Settings for the requests made inside the block (any instrumented client, this task).

    ``cache_send="warm"`` marks cache-warming sends, so the cache-bust check
    can compare a warming send's prefix with the next real one.
    """
    if cache_send is not None and cache_send not in ("warm", "real"):
        raise InstrumentError(f"cache_send must be 'warm' or 'real', not {cache_send!r}")
    values: dict[str, Any] = {}
    if parent is not None:
        values["parent"] = parent
    if conversation_id is not None:
        values["conversation_id"] = conversation_id
    if cache_send is not None:
        values["cache_send"] = cache_send
    token = set_overrides(values)
    try:
        yield
    finally:
        reset_overrides(token)
