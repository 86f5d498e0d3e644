"""Retry with exponential backoff and full jitter.

The delay before attempt ``n + 1`` is drawn uniformly from
``[0, min(cap, base * factor ** (n - 1))]`` ("full jitter", which spreads
retries of many failing tasks instead of synchronising them). The draw comes
from the orchestrator's seeded generator and the resulting time is written
into the ledger (``task.failed`` → ``retry_at_ms``), so replay never redraws.
"""

import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from orca.orchestrator._errors import InvalidRequest

DEFAULT_BASE_MS = 1_000
DEFAULT_FACTOR = 2.0
DEFAULT_CAP_MS = 60_000
DEFAULT_MAX_ATTEMPTS = 5


def is_finite_number(v: object) -> bool:
    """An int or float, not a bool, not NaN or infinite (either would poison later sums)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failing task is retried. ``max_attempts`` counts deliveries (the first included)."""

    base_ms: int = DEFAULT_BASE_MS
    factor: float = DEFAULT_FACTOR
    cap_ms: int = DEFAULT_CAP_MS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    jitter: Literal["full", "none"] = "full"

    def __post_init__(self) -> None:
        numbers = (self.base_ms, self.factor, self.cap_ms, self.max_attempts)
        if not all(is_finite_number(v) for v in numbers):
            raise InvalidRequest(f"retry policy fields are finite numbers; got {self}")
        if self.base_ms < 0 or self.cap_ms < 0 or self.factor < 1 or self.max_attempts < 1:
            raise InvalidRequest(
                "retry policy needs base_ms >= 0, cap_ms >= 0, factor >= 1 and max_attempts >= 1; "
                f"got {self}"
            )
        if self.jitter not in ("full", "none"):
            raise InvalidRequest(f"retry jitter is 'full' or 'none', not {self.jitter!r}")

    def ceiling_ms(self, attempt: int) -> int:
        """The largest delay after failed attempt ``attempt`` (1-based)."""
        if self.base_ms == 0:
            return 0
        try:
            grown = self.base_ms * self.factor ** max(0, attempt - 1)
        except OverflowError:  # a huge factor: the cap is the answer, not an exception
            return int(self.cap_ms)
        return int(min(self.cap_ms, grown))

    def delay_ms(self, attempt: int, rng: random.Random) -> int:
        """The delay after failed attempt ``attempt``: full jitter below the ceiling."""
        ceiling = self.ceiling_ms(attempt)
        if self.jitter == "none":
            return ceiling
        return rng.randint(0, ceiling)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "RetryPolicy":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        unknown = set(data) - set(known)
        if unknown:
            raise InvalidRequest(f"unknown retry fields {sorted(unknown)}")
        return cls(**known)
