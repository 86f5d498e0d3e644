"""Capture at the edges of other libraries.

``orca.integrations.openai`` records OpenAI-compatible HTTP calls verbatim at
the transport; this package's own surface is the provider-neutral part: usage
normalisation, pricing and the cacheable-prefix fingerprint. Nothing here
imports ``openai`` or ``httpx``, and ``import orca`` does not import this
package.
"""

from orca.integrations._prefix import Prefix, parse_request, prefix_of
from orca.integrations._pricing import (
    DEFAULT_PRICES,
    Cost,
    Price,
    PriceTable,
    PriceTableError,
    Usage,
    cost_usd,
    normalize_usage,
    read_prices,
)

__all__ = [
    "DEFAULT_PRICES",
    "Cost",
    "Prefix",
    "Price",
    "PriceTable",
    "PriceTableError",
    "Usage",
    "cost_usd",
    "normalize_usage",
    "parse_request",
    "prefix_of",
    "read_prices",
]
