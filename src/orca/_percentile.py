"""The one nearest-rank percentile: query, store and the benches all mean the same p95.

Nearest rank (the smallest value with at least ``q`` of the values at or
below it) always returns a member of the data, so a p95 duration is one a
span really took, and SQL can find it with ``ORDER BY … LIMIT 1 OFFSET rank``.
A leaf module: the store and the query room both import it.
"""

import math
from collections.abc import Iterable
from typing import TypeVar, overload

N = TypeVar("N", int, float)


def rank(n: int, q: float) -> int:
    """0-based position of quantile ``q`` (0..1) among ``n`` sorted values (``n`` ≥ 1)."""
    return min(n - 1, max(0, math.ceil(q * n) - 1))


@overload
def percentile(values: Iterable[N], q: float) -> N | None: ...
@overload
def percentile(values: Iterable[N], q: float, empty: N) -> N: ...
def percentile(values: Iterable[N], q: float, empty: N | None = None) -> N | None:
    """Nearest-rank percentile ``q`` (0..1) of ``values`` (any order); ``empty`` for none."""
    ordered = sorted(values)
    return ordered[rank(len(ordered), q)] if ordered else empty
