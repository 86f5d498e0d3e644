"""Prices from the maintained ``genai-prices`` data, fast enough for every response.

``genai_prices.calc_price`` resolves the model, the rates in force on the
request's day and decomposes the usage into priced units: ~100 µs a call,
too much to add to every recorded request. For the common case the price is
linear in the token counts, so six probes of ``calc_price`` (per model,
provider and day, then cached) give a fixed fee and one rate per token kind,
and a cost is five multiplications — the same figure ``calc_price`` gives.
Prices that are not linear (tiers by prompt size) or change within a day
(off-peak hours) are not cached: those costs call ``calc_price`` each time.

``genai_prices`` is imported on the first price asked for, never by
``import orca``; it ships its data and nothing here fetches updates.
"""

import functools
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, NamedTuple

from orca.integrations._usage import Usage

_M: Final = 1_000_000  # probe size: Decimal arithmetic keeps the derived rates exact
_MAX_CACHED: Final = 1024
_UNPROBED: Final = object()
_UNKNOWN: Final = object()


class MaintainedCost(NamedTuple):
    """USD and the source label: ``genai-prices <version> <day>``."""

    usd: float
    source: str


class _Rates(NamedTuple):
    """A linear price: a fixed fee per request plus USD per token of each kind."""

    fixed: float
    input: float  # every input token, cached or not
    cache_read: float  # added per cache-read token (its rate minus the input rate)
    cache_write: float  # likewise for cache writes
    output: float  # every output token
    reasoning: float  # added per reasoning token (its rate minus the output rate)

    def usd(self, u: Usage) -> float:
        return (
            self.fixed
            + u.input * self.input
            + u.cache_read * self.cache_read
            + u.cache_write * self.cache_write
            + u.output * self.output
            + u.reasoning_part * self.reasoning
        )


class Maintained:
    """``genai-prices`` with linear prices cached per (model, provider, day)."""

    def __init__(self) -> None:
        # _Rates: linear, cached; None: priced, but not linearly; _UNKNOWN: no price
        self._rates: dict[tuple[str, str | None, str], object] = {}
        self._lock = threading.Lock()

    def cost(
        self, usage: Usage, model: str, provider: str | None, when: datetime
    ) -> MaintainedCost | None:
        """What ``usage`` cost on ``when``'s day; None when ``genai-prices`` cannot price it.

        ``provider`` is a hint: an OpenAI-compatible client may call any
        vendor's model, so a miss under the hinted provider is retried without.
        """
        day = when.date().isoformat()
        for provider_id in (provider, None) if provider else (None,):
            found = self._cost(usage, model, provider_id, when, day)
            if found is not None:
                return MaintainedCost(found, source(day))
        return None

    def _cost(
        self, usage: Usage, model: str, provider: str | None, when: datetime, day: str
    ) -> float | None:
        key = (model, provider, day)
        with self._lock:
            known = self._rates.get(key, _UNPROBED)
        if known is _UNPROBED:
            try:
                known = _probe(model, provider, when)
            except Exception:  # LookupError: unknown model or provider; anything else: no price
                known = _UNKNOWN
            with self._lock:
                if len(self._rates) >= _MAX_CACHED:
                    self._rates.clear()
                self._rates[key] = known
        if isinstance(known, _Rates):
            return known.usd(usage)
        if known is _UNKNOWN:
            return None
        try:  # a price that is not linear: genai-prices computes each cost
            return float(_calc(_counts(usage), model, provider, when).total_price)
        except Exception:
            return None


def _counts(usage: Usage) -> dict[str, int]:
    counts = {"input_tokens": usage.input, "output_tokens": usage.output}
    if usage.cache_read:
        counts["cache_read_tokens"] = usage.cache_read
    if usage.cache_write:
        counts["cache_write_tokens"] = usage.cache_write
    if usage.reasoning_part:
        counts["output_reasoning_tokens"] = usage.reasoning_part
    return counts


def _calc(counts: dict[str, int], model: str, provider: str | None, when: datetime) -> Any:
    import genai_prices

    return genai_prices.calc_price(
        genai_prices.Usage(**counts), model, provider_id=provider, genai_request_timestamp=when
    )


def _probe(model: str, provider: str | None, when: datetime) -> _Rates | None:
    """The linear rates of ``model`` on ``when``'s day; None when its price is not linear."""
    from genai_prices.types import TieredPrices, TimeOfDateConstraint

    zero = _calc({}, model, provider, when)  # raises LookupError for an unknown model
    if any(isinstance(v, TieredPrices) for v in vars(zero.model_price).values()):
        return None
    prices = zero.model.prices
    if isinstance(prices, list) and any(
        isinstance(p.constraint, TimeOfDateConstraint) for p in prices
    ):
        return None
    if any(isinstance(v.constraint, TimeOfDateConstraint) for v in zero.model.price_variants or ()):
        return None

    def total(**counts: int) -> Decimal:
        return Decimal(_calc(counts, model, provider, when).total_price)

    fixed = Decimal(zero.total_price)
    inp = total(input_tokens=_M) - fixed
    out = total(output_tokens=_M) - fixed
    return _Rates(
        fixed=float(fixed),
        input=float(inp / _M),
        cache_read=float((total(input_tokens=_M, cache_read_tokens=_M) - fixed - inp) / _M),
        cache_write=float((total(input_tokens=_M, cache_write_tokens=_M) - fixed - inp) / _M),
        output=float(out / _M),
        reasoning=float((total(output_tokens=_M, output_reasoning_tokens=_M) - fixed - out) / _M),
    )


@functools.cache
def source(day: str) -> str:
    """``genai-prices <version> <YYYY-MM-DD>``: which data, and the day whose rates were used."""
    from genai_prices import __version__

    return f"genai-prices {__version__} {day}"


def day_of(now_ns: int) -> datetime:
    """The UTC time of a Unix-ns clock reading (``genai-prices`` picks rates by it)."""
    return datetime.fromtimestamp(now_ns / 1e9, UTC)
