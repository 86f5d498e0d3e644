"""Record every call an Anthropic client makes, verbatim, at the HTTP edge.

As with OpenAI, the preferred way is the SDK's public ``http_client``
argument, and :func:`instrument` is the in-place fallback::

    client = Anthropic(http_client=orca.integrations.anthropic.http_client(parent=step))
    client = orca.integrations.anthropic.instrument(Anthropic(...), parent=step)

Both work on ``anthropic.Anthropic`` and ``AsyncAnthropic`` alike, for
``messages.create`` and ``messages.stream``: they wrap the same httpx edge
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

Importing this module imports neither ``anthropic`` nor ``httpx``.
"""

from typing import Final

from orca.integrations._instrument import Edge, InstrumentError, request_context, settings_of
from orca.integrations._wire import ANTHROPIC

__all__ = ["InstrumentError", "http_client", "instrument", "request_context", "settings_of"]

_EDGE: Final = Edge(ANTHROPIC, "anthropic")
instrument = _EDGE.instrument
http_client = _EDGE.http_client
