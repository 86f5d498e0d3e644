"""Record every call an OpenAI(-compatible) client makes, verbatim, at the HTTP edge.

The preferred way hands the SDK a recording HTTP client through its public
``http_client`` argument::

    client = OpenAI(http_client=orca.integrations.openai.http_client(parent=step))

and for a client that already exists, one line instruments it in place::

    client = orca.integrations.openai.instrument(OpenAI(...), parent=step)

(this swaps the SDK's private transport attributes: the documented
fallback). Either way each request becomes a ``provider.request`` span: the
request body exactly as sent, headers with secrets masked, the raw response
(a stream reassembled), status, latency, time to first byte, usage with
cached and reasoning tokens, cost, and the cache-bust evidence
(``orca.prefix.fingerprint``). Per-request settings (parent span,
conversation id, a cache-warming send) go in a :func:`request_context` block.
See ``docs/provider-capture.md``.

Importing this module imports neither ``openai`` nor ``httpx``;
:func:`http_client` imports ``openai`` when called.
"""

from typing import Any, TypeVar, Unpack

from orca.capture import Span
from orca.integrations._exchange import SPAN_NAME, Settings, header_value
from orca.integrations._instrument import (
    CacheSend,
    InstrumentError,
    Options,
    build_http_client,
    install,
    make_settings,
    request_context,
    settings_of,
)
from orca.integrations._transport import AsyncOrcaTransport, OrcaTransport
from orca.integrations._wire import OPENAI

__all__ = [
    "SPAN_NAME",
    "AsyncOrcaTransport",
    "CacheSend",
    "InstrumentError",
    "OrcaTransport",
    "Settings",
    "header_value",
    "http_client",
    "instrument",
    "request_context",
    "settings_of",
]

C = TypeVar("C")


def instrument(client: C, parent: Span | None = None, **options: Unpack[Options]) -> C:
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

    ``governor`` (``orca.governance.Guard``, or the orchestrator inside an agent
    handler) admits each request before any byte is sent — policy
    (``pre_provider_request``) and a budget reservation of its worst case
    (``max_tokens``, else ``Settings.max_output_tokens``) — and settles it from
    the reported usage; a refused request raises the governor's error and
    never reaches the network (streaming too).
    """
    return install(client, make_settings(OPENAI, parent, "openai", options))


def http_client(
    parent: Span | None = None,
    *,
    transport: Any = None,
    is_async: bool = False,
    **options: Unpack[Options],
) -> Any:
    """An ``openai.DefaultHttpxClient`` whose requests are recorded: ``OpenAI(http_client=…)``.

    ``transport`` is your own httpx transport (proxy, retries), wrapped; by
    default a plain one. ``is_async=True`` makes the ``AsyncOpenAI`` kind.
    Options are :func:`instrument`'s.
    """
    settings = make_settings(OPENAI, parent, "openai", options)
    return build_http_client("openai", settings, transport, is_async)
