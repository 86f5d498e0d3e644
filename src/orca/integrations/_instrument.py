"""Instrumenting a client: one path for every provider SDK built on httpx.

The official ``openai`` and ``anthropic`` clients both keep an httpx(2)
client in ``._client`` whose ``._transport`` (and ``._mounts``) make the
final hop; :func:`install` swaps those for the recording transports with the
given :class:`Settings`. The per-provider modules only choose the wire format
and defaults, so both providers share one transport wrapper, one exchange
recorder and one way to pass per-request settings (:func:`request_context`).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from orca._home import resolve_home
from orca.capture import Logger, Span, home_of
from orca.errors import OrcaError
from orca.integrations._exchange import Settings
from orca.integrations._overrides import pop_overrides, push_overrides
from orca.integrations._pricing import PriceTable
from orca.integrations._transport import AsyncOrcaTransport, OrcaTransport
from orca.integrations._wire import Wire

C = TypeVar("C")
CacheSend = Literal["warm", "real"]


class InstrumentError(OrcaError):
    """The object handed to ``instrument()`` has no HTTP transport we know how to wrap."""


def _http_client(client: Any) -> Any:
    inner = getattr(client, "_client", None)
    if inner is not None and hasattr(inner, "_transport"):
        return inner  # an OpenAI / Anthropic client (sync or async) or a compatible one
    if hasattr(client, "_transport"):
        return client  # an httpx / httpx2 Client or AsyncClient
    raise InstrumentError(
        f"cannot instrument {type(client).__name__}: expected an OpenAI or Anthropic client "
        "or an httpx Client; or pass transport=OrcaTransport(...) to your own client"
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


def make_settings(
    wire: Wire,
    *,
    parent: Span | None,
    logger: Logger | None,
    conversation_id: str | None,
    cache_send: str,
    provider: str,
    home: str | Path | None,
    prices: PriceTable | None,
    secret_fields: Sequence[str],
    secrets: Sequence[str],
    governor: Any,
) -> Settings:
    """Settings from ``instrument()``'s arguments, checked (a bad value raises here, not later)."""
    if cache_send not in ("warm", "real"):
        raise InstrumentError(f"cache_send must be 'warm' or 'real', not {cache_send!r}")
    if home is None:  # the home of the recorder we write to, not $ORCA_HOME or ./.orca
        handle = parent if parent is not None else logger
        home = home_of(handle) if handle is not None else None
    # The traced process never raises for a bad price file: one warning, built-in prices.
    table = prices if prices is not None else PriceTable.load_or_warn(resolve_home(home))
    return Settings(
        parent=parent,
        logger=logger,
        conversation_id=conversation_id,
        cache_send=cache_send,
        provider=provider,
        prices=table,
        secret_fields=Settings().secret_fields + tuple(secret_fields),
        secrets=tuple(secrets),
        wire=wire,
        governor=governor,
    )


def install(client: C, settings: Settings) -> C:
    """Swap the client's transports for recording ones; returns the same client."""
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
    token = push_overrides(parent=parent, conversation_id=conversation_id, cache_send=cache_send)
    try:
        yield
    finally:
        pop_overrides(token)
