"""Capture at the edges of other libraries.

``orca.integrations.openai`` and ``orca.integrations.anthropic`` record
provider HTTP calls verbatim at the transport (one shared wrapper; only the
wire format differs); ``orca.integrations.openai_agents`` turns the OpenAI
Agents SDK's trace events into ORCA spans. This package's own surface is the
provider-neutral part: usage normalisation, pricing, the cacheable-prefix
fingerprint (per ``cache_control`` breakpoint), and the ``Governor``
protocol through which provider requests are governed before they are sent.
Nothing here imports ``openai``, ``anthropic`` or ``httpx`` (only
``openai_agents`` imports its SDK), and ``import orca`` does not import this
package.
"""

from orca.integrations._govern import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    Admission,
    Estimate,
    Governor,
    ProviderCall,
)
from orca.integrations._prefix import Breakpoint, Prefix, parse_request, prefix_of
from orca.integrations._price_file import Price, PriceTableError, read_prices
from orca.integrations._pricing import Cost, PriceTable, cost_usd
from orca.integrations._usage import Usage, normalize_usage

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "Admission",
    "Breakpoint",
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
