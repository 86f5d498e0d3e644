"""Capture at the edges of other libraries.

``orca.integrations.openai`` records OpenAI-compatible HTTP calls verbatim at
the transport; this package's own surface is the provider-neutral part: usage
normalisation, pricing, the cacheable-prefix fingerprint, and the
``Governor`` protocol through which provider requests are governed. Nothing here
imports ``openai`` or ``httpx``, and ``import orca`` does not import this
package.
"""

from orca.integrations._govern import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    Admission,
    Estimate,
    Governor,
    ProviderCall,
)
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
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "DEFAULT_PRICES",
    "Admission",
    "Cost",
    "Estimate",
    "Governor",
    "Prefix",
    "Price",
    "PriceTable",
    "PriceTableError",
    "ProviderCall",
    "Usage",
    "cost_usd",
    "normalize_usage",
    "parse_request",
    "prefix_of",
    "read_prices",
]
