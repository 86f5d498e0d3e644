"""Record every call an Anthropic client makes, verbatim, at the HTTP edge.

One line::

    client = orca.integrations.anthropic.instrument(Anthropic(...), parent=step)

works on ``anthropic.Anthropic`` and ``AsyncAnthropic`` alike, for
``messages.create`` and ``messages.stream``: it wraps the same httpx edge
with the same transport as the OpenAI integration, so each request becomes a
``provider.request`` span with the body exactly as sent (``x-api-key``
masked), the raw response or error body (a 529 ``overloaded_error`` too), a
streamed response reassembled from its events, usage with
``cache_creation_input_tokens`` / ``cache_read_input_tokens`` mapped to
``gen_ai.usage.cache_write.input_tokens`` / ``cache_read.input_tokens``, cost
from the same price table, ``tool_use`` ids noted so the ``tool-call`` spans
answering them are linked, and one prefix fingerprint per ``cache_control``
breakpoint (``orca.prefix.breakpoints``) so ``orca check`` can say which
breakpoint's cache entry a change invalidated.

This module never imports ``anthropic`` or ``httpx``.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from orca.capture import Logger, Span
from orca.integrations._instrument import (
    CacheSend,
    InstrumentError,
    install,
    make_settings,
    request_context,
    settings_of,
)
from orca.integrations._pricing import PriceTable
from orca.integrations._wire import ANTHROPIC

__all__ = ["InstrumentError", "instrument", "request_context", "settings_of"]

C = TypeVar("C")


def instrument(
    client: C,
    parent: Span | None = None,
    *,
    logger: Logger | None = None,
    governor: Any = None,
    conversation_id: str | None = None,
    cache_send: CacheSend = "real",
    provider: str = "anthropic",
    home: str | Path | None = None,
    prices: PriceTable | None = None,
    secret_fields: Sequence[str] = (),
    secrets: Sequence[str] = (),
) -> C:
    """Record the client's requests; returns the same client, instrumented in place.

    Where spans go, and every option, is as in
    :func:`orca.integrations.openai.instrument`; only the wire format differs.
    """
    settings = make_settings(
        ANTHROPIC,
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
