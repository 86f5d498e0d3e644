"""What a request cost, and which price list said so.

A cost the provider reports itself always wins. Otherwise each kind of token
is priced at its own rate: the home's ``prices.toml`` first (exact model name
or longest listed prefix), then the maintained ``genai-prices`` data (which
knows cache-read, cache-write and reasoning rates and the dates they changed).
Every cost carries its ``source`` — ``provider``, the price file's name, or
``genai-prices <version> <date>`` — recorded as ``orca.cost.source``.

``genai-prices`` ships its data; it is imported on the first price it is asked
for (never by ``import orca``) and never fetches anything. A model nobody
prices is no cost, counted per model and warned about once, never an error.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from orca.capture import safe_warn
from orca.integrations._maintained import Maintained, day_of
from orca.integrations._price_file import Price, PriceTableError, find_price_file, read_prices
from orca.integrations._usage import Usage

_PER: Final = 1_000_000  # prices are USD per million tokens
PROVIDER: Final = "provider"
UNPRICED: Final = "unpriced"


@dataclass(frozen=True, slots=True)
class Cost:
    """USD (None when unpriced) and what priced it (the ``orca.cost.source`` attribute)."""

    usd: float | None
    source: str


def price_usd(usage: Usage, price: Price) -> float:
    """``usage`` at ``price``: each input part and the reasoning part of output at its own rate."""
    reasoning = usage.reasoning_part
    reasoning_rate = price.output if price.reasoning is None else price.reasoning
    return (
        usage.uncached * price.input
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
        + (usage.output - reasoning) * price.output
        + reasoning * reasoning_rate
    ) / _PER


class PriceTable:
    """Model name → price: own rates by exact name or longest prefix, then ``genai-prices``.

    ``maintained=False`` uses the own rates only. ``clock`` (Unix ns) dates the
    lookup: ``genai-prices`` picks the rates in force on that day.
    ``unpriced`` counts, per model, the costs no price list could give.
    """

    def __init__(
        self,
        prices: Mapping[str, Price] | None = None,
        *,
        source: str = "price table",
        maintained: bool = True,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.prices: dict[str, Price] = dict(prices or {})
        self.source = source
        self.maintained = maintained
        self.unpriced: Counter[str] = Counter()
        self._clock = clock
        self._by_length = sorted(self.prices, key=len, reverse=True)
        self._misses: set[tuple[str, str | None]] = set()
        self._lock = threading.Lock()

    def lookup(self, model: str | None) -> Price | None:
        """The own rate for ``model`` (exact name, else the longest listed prefix)."""
        if not model:
            return None
        price = self.prices.get(model)
        if price is not None:
            return price
        for name in self._by_length:
            if model.startswith(name):
                return self.prices[name]
        return None

    def cost(
        self, usage: Usage, model: str | None, provider: str | None = None, *, count: bool = True
    ) -> Cost:
        """What ``usage`` of ``model`` cost; ``count=False`` for estimates (no unpriced count)."""
        if usage.reported_cost is not None:
            return Cost(usage.reported_cost, PROVIDER)
        price = self.lookup(model)
        if price is not None:
            return Cost(price_usd(usage, price), self.source)
        if model and self.maintained and (model, provider) not in self._misses:
            found = _MAINTAINED.cost(usage, model, provider, day_of(self._clock()))
            if found is not None:
                return Cost(found.usd, found.source)
            if len(self._misses) >= 4096:  # bounded: model names come from responses
                self._misses.clear()
            self._misses.add((model, provider))
        if count:
            self._note_unpriced(model or "")
        return Cost(None, UNPRICED)

    def _note_unpriced(self, model: str) -> None:
        with self._lock:
            self.unpriced[model] += 1
            first = self.unpriced[model] == 1
        if first:
            safe_warn(
                f"orca: no price known for model {model!r}; its cost is not recorded "
                "(add it to <home>/prices.toml)",
                stacklevel=4,
            )

    @classmethod
    def load(cls, home: Path | None) -> "PriceTable":
        """``<home>/prices.toml`` (or ``.json``) over ``genai-prices``; raises if malformed."""
        path = find_price_file(home)
        if path is None:
            return cls()
        return cls(read_prices(path), source=path.name)

    @classmethod
    def load_or_warn(cls, home: Path | None) -> "PriceTable":
        """Like :meth:`load`, but a malformed file is one warning (file and line), not an error.

        For the traced process, where instrumenting must never raise. The table
        read from one version of a file is kept, so instrumenting many clients
        reads (and warns about) it once.
        """
        path = find_price_file(home)
        if path is None:
            return cls()
        try:
            stat = path.stat()
            key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = (str(path), 0, 0, 0)
        with _LOADED_LOCK:
            table = _LOADED.get(key)
            if table is None:
                try:
                    table = cls(read_prices(path), source=path.name)
                except PriceTableError as exc:
                    safe_warn(f"orca: {exc}; using genai-prices (fix the file to use yours)", 4)
                    table = cls()
                if len(_LOADED) >= 64:
                    _LOADED.clear()
                _LOADED[key] = table
        return table


_MAINTAINED: Final = Maintained()  # genai-prices, its linear rates cached per model and day
# One table per version of a price file: a cache of its content, keyed by its stat.
_LOADED: dict[tuple[str, int, int, int], PriceTable] = {}
_LOADED_LOCK: Final = threading.Lock()


def cost_usd(usage: Usage, model: str | None, table: PriceTable) -> Cost:
    """The provider's own figure when it gave one, else each token kind at its own rate."""
    return table.cost(usage, model)
