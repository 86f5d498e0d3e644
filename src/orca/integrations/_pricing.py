"""Token usage, normalised across providers, and what a request cost.

Providers report cached tokens in two incompatible ways, and getting it wrong
is how cost figures end up many times too high on cached requests:

* OpenAI-shaped usage (``prompt_tokens``) *includes* cached tokens:
  ``prompt_tokens_details.cached_tokens`` (or DeepSeek's
  ``prompt_cache_hit_tokens``) are a part of ``prompt_tokens``, and so are
  cache writes when a compatible provider reports them there.
* Anthropic-shaped usage (``input_tokens``) *excludes* them:
  ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` come on top.

:func:`normalize_usage` turns both into one :class:`Usage` whose ``uncached``,
``cache_read`` and ``cache_write`` never overlap, and :func:`cost_usd` prices
each part at its own rate. A cost the provider reports itself always wins.
"""

import json
import math
import sys
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from orca.errors import OrcaError

PRICES_FILES: Final = ("prices.toml", "prices.json")
_PER: Final = 1_000_000  # prices are USD per million tokens


class PriceTableError(OrcaError):
    """A price table file that cannot be read as one (bad TOML/JSON, wrong shape)."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, one rate for each kind of token."""

    input: float  # uncached input
    output: float
    cache_read: float
    cache_write: float


# Published list prices (USD / 1M tokens) of a few common models; override or
# extend them in <home>/prices.toml. Model names match exactly or by the longest
# listed prefix ("gpt-4o-2024-08-06" is priced as "gpt-4o").
DEFAULT_PRICES: Final[Mapping[str, Price]] = {
    "gpt-4o": Price(input=2.50, output=10.00, cache_read=1.25, cache_write=0.0),
    "gpt-4o-mini": Price(input=0.15, output=0.60, cache_read=0.075, cache_write=0.0),
    "gpt-4.1": Price(input=2.00, output=8.00, cache_read=0.50, cache_write=0.0),
    "gpt-4.1-mini": Price(input=0.40, output=1.60, cache_read=0.10, cache_write=0.0),
    "gpt-4.1-nano": Price(input=0.10, output=0.40, cache_read=0.025, cache_write=0.0),
    "o3-mini": Price(input=1.10, output=4.40, cache_read=0.55, cache_write=0.0),
    "claude-3-5-haiku": Price(input=0.80, output=4.00, cache_read=0.08, cache_write=1.00),
    "claude-sonnet-4": Price(input=3.00, output=15.00, cache_read=0.30, cache_write=3.75),
    "claude-opus-4": Price(input=15.00, output=75.00, cache_read=1.50, cache_write=18.75),
}


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts whose input parts never overlap (``input`` is their sum)."""

    uncached: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int | None = None  # part of ``output`` where reported
    reported_cost: float | None = None  # the provider's own figure, USD

    @property
    def input(self) -> int:
        """All input tokens, cached or not (OpenTelemetry's ``gen_ai.usage.input_tokens``)."""
        return self.uncached + self.cache_read + self.cache_write


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def normalize_usage(usage: Mapping[str, Any], response: Mapping[str, Any] | None = None) -> Usage:
    """One :class:`Usage` from an OpenAI- or Anthropic-shaped ``usage`` object."""
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    out_details = usage.get("completion_tokens_details")
    out_details = out_details if isinstance(out_details, Mapping) else {}
    if "prompt_tokens" in usage:  # OpenAI shape: cached tokens are inside prompt_tokens
        total = _int(usage.get("prompt_tokens"))
        read = _int(details.get("cached_tokens")) or _int(usage.get("prompt_cache_hit_tokens"))
        write = _int(details.get("cache_write_tokens")) or _int(
            usage.get("cache_creation_input_tokens")
        )
        read = min(read, total)
        write = min(write, total - read)
        uncached = total - read - write
        output = _int(usage.get("completion_tokens"))
    else:  # Anthropic shape: cache reads and writes come on top of input_tokens
        uncached = _int(usage.get("input_tokens"))
        read = _int(usage.get("cache_read_input_tokens"))
        write = _int(usage.get("cache_creation_input_tokens"))
        output = _int(usage.get("output_tokens"))
    reasoning = out_details.get("reasoning_tokens")
    cost = _reported_cost(usage, response or {})
    return Usage(
        uncached=uncached,
        cache_read=read,
        cache_write=write,
        output=output,
        reasoning=_int(reasoning) if reasoning is not None else None,
        reported_cost=cost,
    )


def _reported_cost(usage: Mapping[str, Any], response: Mapping[str, Any]) -> float | None:
    for value in (usage.get("cost"), response.get("cost")):
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


class PriceTable:
    """Model name → :class:`Price`, by exact name or longest listed prefix."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES if prices is None else prices)
        self._by_length = sorted(self.prices, key=len, reverse=True)

    def lookup(self, model: str | None) -> Price | None:
        if not model:
            return None
        price = self.prices.get(model)
        if price is not None:
            return price
        for name in self._by_length:
            if model.startswith(name):
                return self.prices[name]
        return None

    @classmethod
    def load_or_warn(cls, home: Path | None) -> "PriceTable":
        """Like :meth:`load`, but a malformed file is one warning (file and line), not an error.

        For the traced process, where instrumenting must never raise.
        """
        try:
            return cls.load(home)
        except PriceTableError as exc:
            _warn_once(
                Path(str(home)),
                f"orca: {exc}; using built-in prices (fix the file to use yours)",
            )
            return cls()

    @classmethod
    def load(cls, home: Path | None) -> "PriceTable":
        """Built-in prices, overridden by ``<home>/prices.toml`` (or ``prices.json``) if present."""
        prices = dict(DEFAULT_PRICES)
        if home is not None:
            for name in PRICES_FILES:
                path = home / name
                if path.is_file():
                    prices.update(read_prices(path))
                    break
        return cls(prices)


_WARNED: set[str] = set()


def _warn_once(path: Path, message: str) -> None:
    """One warning per price file: the traced process keeps running on built-in prices."""
    if str(path) in _WARNED:
        return
    _WARNED.add(str(path))
    try:
        warnings.warn(message, RuntimeWarning, stacklevel=4)
    except Exception:  # warnings as errors must not break the caller's turn
        sys.stderr.write(message + "\n")


def read_prices(path: Path) -> dict[str, Price]:
    """Read a price file: ``[models."name"]`` tables with input/output/cache_read/cache_write."""
    raw = b""
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        detail = str(exc)
        if "end of document" in detail:  # say which line a person should look at
            detail += f", line {len(raw.splitlines()) or 1}"
        raise PriceTableError(f"cannot read price table {path}: {detail}") from None
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        raise PriceTableError(
            f"{path}: expected a 'models' table, e.g. [models.\"gpt-4o\"] input = 2.5 …"
        )
    out: dict[str, Price] = {}
    for model, entry in models.items():
        if not isinstance(entry, dict):
            raise PriceTableError(f"{path}: models.{model} must be a table of rates")
        rates: dict[str, float] = {}
        for field in ("input", "output", "cache_read", "cache_write"):
            value = entry.get(field)
            if field == "cache_write" and value is None:
                value = entry.get("input")  # no write surcharge known: written tokens at input rate
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise PriceTableError(
                    f"{path}: models.{model}.{field} must be a non-negative number (USD per 1M)"
                )
            rates[field] = float(value)
        unknown = set(entry) - {"input", "output", "cache_read", "cache_write"}
        if unknown:
            raise PriceTableError(f"{path}: models.{model} has unknown fields {sorted(unknown)}")
        out[str(model)] = Price(**rates)
    return out


@dataclass(frozen=True, slots=True)
class Cost:
    usd: float | None
    source: str  # "provider" | "table" | "unpriced"


def cost_usd(usage: Usage, model: str | None, table: PriceTable) -> Cost:
    """The provider's own figure when it gave one, else each token kind at its own rate."""
    if usage.reported_cost is not None:
        return Cost(usage.reported_cost, "provider")
    price = table.lookup(model)
    if price is None:
        return Cost(None, "unpriced")
    usd = (
        usage.uncached * price.input
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
        + usage.output * price.output
    ) / _PER
    return Cost(usd, "table")
