"""A home's own prices: ``<home>/prices.toml`` (or ``prices.json``), read and checked.

The maintained ``genai-prices`` data prices most models; this file is for the
ones it does not know (a local model, a negotiated rate) and always wins over
it. A file that is not a price table is a :class:`PriceTableError` naming the
file, the model and the field, so a person knows what to fix.
"""

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from orca.errors import OrcaError

PRICES_FILES: Final = ("prices.toml", "prices.json")
_REQUIRED: Final = ("input", "output", "cache_read")
_FIELDS: Final = frozenset({*_REQUIRED, "cache_write", "reasoning"})


class PriceTableError(OrcaError):
    """A price table file that cannot be read as one (bad TOML/JSON, wrong shape)."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, one rate for each kind of token.

    ``reasoning`` prices the reasoning part of the output; None charges it at
    the ``output`` rate (what most providers do).
    """

    input: float  # uncached input
    output: float
    cache_read: float
    cache_write: float
    reasoning: float | None = None


def _rate(path: Path, model: str, field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceTableError(
            f"{path}: models.{model}.{field} must be a non-negative number (USD per 1M)"
        )
    return float(value)


def read_prices(path: Path) -> dict[str, Price]:
    """Read a price file: ``[models."name"]`` tables of input/output/cache_read rates.

    ``cache_write`` defaults to the input rate (no write surcharge known) and
    ``reasoning`` to the output rate; ``cache_read`` is required, so a cached
    token is never silently charged at the full price.
    """
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
        unknown = set(entry) - _FIELDS
        if unknown:
            raise PriceTableError(f"{path}: models.{model} has unknown fields {sorted(unknown)}")
        rates = {field: _rate(path, model, field, entry.get(field)) for field in _REQUIRED}
        write = entry.get("cache_write", entry.get("input"))
        reasoning = entry.get("reasoning")
        out[str(model)] = Price(
            input=rates["input"],
            output=rates["output"],
            cache_read=rates["cache_read"],
            cache_write=_rate(path, model, "cache_write", write),
            reasoning=None if reasoning is None else _rate(path, model, "reasoning", reasoning),
        )
    return out


def find_price_file(home: Path | None) -> Path | None:
    """The home's price file, ``prices.toml`` before ``prices.json``; None when it has none."""
    if home is None:
        return None
    for name in PRICES_FILES:
        path = home / name
        if path.is_file():
            return path
    return None
