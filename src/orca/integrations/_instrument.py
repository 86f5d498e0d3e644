"""Instrumenting a client: one path for every provider SDK built on httpx.

The preferred way uses only public arguments: :func:`build_http_client`
makes the SDK's own default httpx(2) client (``openai.DefaultHttpxClient``,
``anthropic.DefaultHttpxClient``) with ``transport=`` a recording transport
around the caller's transport (or a fresh one), to be passed as
``OpenAI(http_client=...)``.

The fallback, for a client that already exists, is :func:`install`: the
official ``openai`` and ``anthropic`` clients keep an httpx(2) client in
``._client`` whose ``._transport`` (and ``._mounts``) make the final hop, and
install swaps those private attributes for recording transports. It is what
``instrument()`` does (in place, so ``instrument(client)`` keeps working on
the object the caller holds); an SDK release that renames them makes
``instrument()`` raise :class:`InstrumentError`, never record wrongly.

The per-provider modules only choose the wire format and defaults, so both
providers share one transport wrapper, one exchange recorder and one way to
pass per-request settings (:func:`request_context`).
"""

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypedDict, TypeVar, Unpack

from orca._home import resolve_home
from orca.capture import Logger, Span, home_of
from orca.errors import OrcaError
from orca.integrations._exchange import Settings
from orca.integrations._overrides import pop_overrides, push_overrides
from orca.integrations._pricing import PriceTable
from orca.integrations._transport import AsyncOrcaTransport, OrcaTransport
from orca.integrations._wire import Wire

C = TypeVar("C")
# What a send is for: "warm" only fills the provider's prompt cache, "real" is the call itself.
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


class Options(TypedDict, total=False):
    """``instrument()``'s and ``http_client()``'s keyword options (see the openai module)."""

    logger: Logger | None
    governor: Any
    conversation_id: str | None
    cache_send: CacheSend
    provider: str
    home: str | Path | None
    prices: PriceTable | None
    secret_fields: Sequence[str]
    secrets: Sequence[str]


def make_settings(
    wire: Wire, parent: Span | None, default_provider: str, options: Options
) -> Settings:
    """Settings from ``instrument()``'s arguments, checked (a bad value raises here, not later)."""
    cache_send = options.get("cache_send", "real")
    if cache_send not in ("warm", "real"):
        raise InstrumentError(f"cache_send must be 'warm' or 'real', not {cache_send!r}")
    logger = options.get("logger")
    home = options.get("home")
    if home is None:  # the home of the recorder we write to, not $ORCA_HOME or ./.orca
        handle = parent if parent is not None else logger
        home = home_of(handle) if handle is not None else None
    prices = options.get("prices")
    # The traced process never raises for a bad price file: one warning, genai-prices.
    table = prices if prices is not None else PriceTable.load_or_warn(resolve_home(home))
    return Settings(
        parent=parent,
        logger=logger,
        conversation_id=options.get("conversation_id"),
        cache_send=cache_send,
        provider=options.get("provider", default_provider),
        prices=table,
        secret_fields=Settings().secret_fields + tuple(options.get("secret_fields", ())),
        secrets=tuple(options.get("secrets", ())),
        wire=wire,
        governor=options.get("governor"),
    )


def _httpx_of(client_class: type) -> ModuleType:
    """The httpx library (``httpx`` or ``httpx2``) an SDK's client class is built on."""
    for base in client_class.__mro__:
        root = base.__module__.split(".", 1)[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    raise InstrumentError(f"{client_class.__name__} is not an httpx client class")


def build_http_client(sdk: str, settings: Settings, transport: Any, is_async: bool) -> Any:
    """The SDK's default httpx client whose transport records: public arguments only.

    ``transport`` is the caller's own (proxies, retries, a test transport);
    None makes the library's plain one.
    """
    try:
        module = importlib.import_module(sdk)
    except ImportError:
        raise InstrumentError(f"http_client() needs the {sdk} package: pip install {sdk}") from None
    client_class = getattr(module, "DefaultAsyncHttpxClient" if is_async else "DefaultHttpxClient")
    if transport is None:
        lib = _httpx_of(client_class)
        transport = lib.AsyncHTTPTransport() if is_async else lib.HTTPTransport()
    return client_class(transport=_wrap(transport, settings))


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


class Edge:
    """``instrument()`` and ``http_client()`` for one provider API: its wire format and SDK.

    ``orca.integrations.openai`` and ``orca.integrations.anthropic`` each
    expose one edge's two methods; only the wire format and the SDK differ.
    """

    def __init__(self, wire: Wire, sdk: str) -> None:
        self.wire = wire
        self.sdk = sdk

    def instrument(self, client: C, parent: Span | None = None, **options: Unpack[Options]) -> C:
        """Record the client's requests; returns the same client, instrumented in place.

        Spans are children of ``parent``, else of the span a :func:`request_context`
        names, else of the current span (a ``with span:`` block), else roots of
        new traces made by ``logger``; with none of these nothing is recorded
        (counted in ``settings_of(client).unrecorded``, one warning).
        ``prices`` defaults to the bundled ``genai-prices`` data overridden by
        ``<home>/prices.toml`` of the recorder ``parent`` or ``logger`` writes to
        (a malformed file is one warning naming file and line, then ignored).
        ``secret_fields`` adds JSON body keys whose string values are masked
        (``api_key``, ``password``, … are masked already); ``secrets`` adds
        literal values to mask wherever they appear. ``provider`` names the
        vendor (``gen_ai.provider.name``, and a hint for pricing).

        ``governor`` (``orca.governance.Guard``, or the orchestrator inside an
        agent handler) admits each request before any byte is sent — policy
        (``pre_provider_request``) and a budget reservation of its worst case
        (``max_tokens``, else ``Settings.max_output_tokens``) — and settles it
        from the reported usage; a refused request raises the governor's error
        and never reaches the network (streaming too).

        This swaps the SDK client's private transport attributes (the SDKs have
        no public way to change an existing client's transport): prefer
        :meth:`http_client` when you build the client.
        """
        return install(client, make_settings(self.wire, parent, self.sdk, options))

    def http_client(
        self,
        parent: Span | None = None,
        *,
        transport: Any = None,
        is_async: bool = False,
        **options: Unpack[Options],
    ) -> Any:
        """The SDK's ``DefaultHttpxClient`` whose requests are recorded: ``OpenAI(http_client=…)``.

        ``transport`` is your own httpx transport (proxy, retries), wrapped; by
        default a plain one. ``is_async=True`` makes the async kind
        (``DefaultAsyncHttpxClient``). Options are :meth:`instrument`'s.
        """
        settings = make_settings(self.wire, parent, self.sdk, options)
        return build_http_client(self.sdk, settings, transport, is_async)


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
