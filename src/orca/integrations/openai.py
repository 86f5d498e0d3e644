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

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from orca.capture import Logger, Span
from orca.integrations._exchange import SPAN_NAME, Settings, header_value
from orca.integrations._instrument import (
    CacheSend,
    InstrumentError,
    install,
    make_settings,
    request_context,
    settings_of,
)
from orca.integrations._pricing import PriceTable
from orca.integrations._transport import AsyncOrcaTransport, OrcaTransport
from orca.integrations._wire import OPENAI

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
    governor: Any = None,
) -> C:
    """Record the client's requests; returns the same client, instrumented in place.

    Spans are children of ``parent``, else of the span a :func:`request_context`
    names, else of the current span (a ``with span:`` block), else roots of
    new traces made by ``logger``; with none of these nothing is recorded.
    ``prices`` defaults to the built-in table overridden by
    ``<home>/prices.toml`` of the recorder ``parent`` or ``logger`` writes to
    (a malformed file is one warning naming file and line, then ignored).
    ``secret_fields`` adds JSON body keys whose string values are masked
    (``api_key``, ``password``, … are masked already); ``secrets`` adds
    literal values to mask wherever they appear.

    ``governor`` (``orca.governance.Guard``, or the orchestrator inside an agent
    handler) admits each request before any byte is sent — policy
    (``pre_provider_request``) and a budget reservation of its worst case
    (``max_tokens``, else ``Settings.max_output_tokens``) — and settles it from
    the reported usage; a refused request raises the governor's error and
    never reaches the network (streaming too).
    """
    settings = make_settings(
        OPENAI,
        parent=parent,
        logger=logger,
        conversation_id=conversation_id,
        cache_send=cache_send,
        provider=provider,
        home=home,
        prices=prices,
        secret_fields=secret_fields,
        secrets=secrets,
        governor=governor,
    )
    return install(client, settings)
