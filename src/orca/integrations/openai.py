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

from typing import Final

from orca.integrations._exchange import SPAN_NAME, Settings, header_value
from orca.integrations._instrument import (
    CacheSend,
    Edge,
    InstrumentError,
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

_EDGE: Final = Edge(OPENAI, "openai")
instrument = _EDGE.instrument
http_client = _EDGE.http_client
