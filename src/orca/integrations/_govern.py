"""Enforcement at the provider edge: a ``Governor`` admits each request before it is sent.

``instrument(client, governor=g)`` makes every provider request a governed
action. In the transport — after the client built the final request and
before a single byte goes on the wire, streaming or not — the request is
handed to ``g.admit_provider_request(call)`` with its parsed body and a
worst-case estimate (prompt tokens from the body size, output tokens from
``max_tokens`` × ``n``, priced with the client's price table). The governor
may refuse by raising (``PolicyDenied``, ``BudgetExceeded``, anything: a
governor that breaks refuses too — failing open is the bug this prevents),
or admit with a replacement body (PII redacted, ``max_tokens`` capped).

The admission is settled from the response's reported usage when the body
has been read, released when the request failed before reaching the
provider, and charged its full estimate when the usage never arrived (a cut
stream) — an estimate never silently disappears.

Integrations may not import the orchestrator or governance; the
orchestrator (or ``orca.governance.Guard``) satisfies this protocol.
"""

import math
from collections.abc import Callable
from typing import Any, Final, NamedTuple, Protocol

import orjson

from orca.integrations._pricing import PriceTable
from orca.integrations._stream import reassemble
from orca.integrations._usage import Usage, normalize_usage

# Output tokens reserved for a request that sets no max_tokens (its budget estimate).
DEFAULT_MAX_OUTPUT_TOKENS: Final = 4096
BYTES_PER_TOKEN: Final = 4  # a deliberately rough prompt estimate; settlement corrects it
_USAGE_BUFFER: Final = 16 * 1024 * 1024


class Estimate(NamedTuple):
    """The worst case a request may cost, reserved before it is sent."""

    input_tokens: int
    output_tokens: int
    cost_usd: float


class ProviderCall(NamedTuple):
    """What a governor sees of one provider request."""

    provider: str
    url: str
    model: str | None
    body: Any  # the parsed JSON body (None when it is not JSON)
    stream: bool
    estimate: Estimate
    reestimate: Callable[[Any], Estimate]  # the estimate of a replacement body (a capped one)


class Admission(Protocol):
    """A governor's yes: the body to send instead (None: unchanged) and how to settle."""

    @property
    def body(self) -> Any: ...
    def settle(self, input_tokens: int, output_tokens: int, cost_usd: float | None) -> None: ...
    def settle_estimate(self) -> None: ...
    def release(self) -> None: ...


class Governor(Protocol):
    """Decides each provider request; raises to refuse it."""

    def admit_provider_request(self, call: ProviderCall) -> Admission: ...


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def estimate(
    body: Any, raw_size: int, model: str | None, prices: PriceTable, default_max_output: int
) -> Estimate:
    """Worst case of a request: prompt from its size, output from its caps, priced."""
    doc = body if isinstance(body, dict) else {}
    cap = (
        _int(doc.get("max_completion_tokens"))
        or _int(doc.get("max_tokens"))
        or _int(doc.get("max_output_tokens"))
        or default_max_output
    )
    output = cap * (_int(doc.get("n")) or 1)
    prompt = math.ceil(raw_size / BYTES_PER_TOKEN)
    usage = Usage(uncached=prompt, cache_read=0, cache_write=0, output=output)
    usd = prices.cost(usage, model, count=False).usd
    return Estimate(prompt, output, usd or 0.0)


def provider_call(
    provider: str, url: str, raw: bytes, prices: PriceTable, default_max_output: int
) -> ProviderCall:
    """The call a governor is asked about, from the request as it would be sent."""
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    doc = body if isinstance(body, dict) else {}
    model = doc.get("model") if isinstance(doc.get("model"), str) else None
    est = estimate(body, len(raw), model, prices, default_max_output)

    def reestimate(new_body: Any) -> Estimate:
        size = len(orjson.dumps(new_body))
        return estimate(new_body, size, model, prices, default_max_output)

    return ProviderCall(provider, url, model, body, doc.get("stream") is True, est, reestimate)


Reassemble = Callable[[bytes], tuple[dict[str, Any], int]]


def _chat(raw: bytes) -> tuple[dict[str, Any], int]:
    stream = reassemble(raw)
    return stream.completion(), stream.chunks


def usage_of(
    raw: bytes, model: str | None, prices: PriceTable, reassembler: Reassemble = _chat
) -> tuple[int, int, float] | None:
    """Input, output tokens and cost the response reported (stream or not); None if it did not.

    ``reassembler`` is the wire's (OpenAI chat chunks, Anthropic message events).
    """
    doc: Any = None
    text = raw.lstrip()
    if text.startswith((b"data:", b"event:", b":")):
        doc = reassembler(raw)[0]
    elif text[:1] == b"{":
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    usage = doc.get("usage") if isinstance(doc, dict) else None
    if not isinstance(usage, dict):
        return None
    u = normalize_usage(usage, doc)
    reported = doc.get("model") if isinstance(doc.get("model"), str) else model
    return (u.input, u.output, prices.cost(u, reported).usd or 0.0)


class Settlement:
    """Collects a response body as it passes and settles the admission once it is done."""

    __slots__ = (
        "_admission",
        "_chunks",
        "_done",
        "_encoding",
        "_model",
        "_prices",
        "_reassemble",
        "_size",
    )

    def __init__(
        self,
        admission: Admission,
        model: str | None,
        prices: PriceTable,
        encoding: str | None,
        reassembler: Reassemble = _chat,
    ) -> None:
        self._reassemble = reassembler
        self._admission = admission
        self._model = model
        self._prices = prices
        self._encoding = encoding
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False

    def feed(self, chunk: bytes) -> None:
        if self._size < _USAGE_BUFFER:
            self._chunks.append(chunk)
            self._size += len(chunk)

    def fail(self, exc: BaseException) -> None:
        """Reading the body failed: settle from what arrived (usage seen, else the estimate)."""
        self.finish()

    def finish(self, *, complete: bool = True) -> None:
        """The body was read (or closed): settle from its usage, else charge the estimate."""
        if self._done:
            return
        self._done = True
        from orca.integrations._exchange import _decode

        found = None
        try:
            raw = _decode(b"".join(self._chunks), self._encoding)
            found = usage_of(raw, self._model, self._prices, self._reassemble)
        except Exception:
            found = None
        if found is None:
            self._admission.settle_estimate()
        else:
            self._admission.settle(*found)
