"""Token usage, normalised across providers.

Providers report cached tokens in two incompatible ways, and getting it wrong
is how cost figures end up many times too high on cached requests:

* OpenAI-shaped usage (``prompt_tokens``) *includes* cached tokens:
  ``prompt_tokens_details.cached_tokens`` (or DeepSeek's
  ``prompt_cache_hit_tokens``) are a part of ``prompt_tokens``, and so are
  cache writes when a compatible provider reports them there.
* Anthropic-shaped usage (``input_tokens``) *excludes* them:
  ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` come on top.

:func:`normalize_usage` turns both into one :class:`Usage` whose ``uncached``,
``cache_read`` and ``cache_write`` never overlap, so each part can be priced
at its own rate (``orca.integrations._pricing``).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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

    @property
    def reasoning_part(self) -> int:
        """Reasoning tokens inside ``output`` (never more than ``output``; 0 when not reported)."""
        return min(self.reasoning or 0, self.output)


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
