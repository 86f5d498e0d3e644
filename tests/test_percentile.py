"""The one nearest-rank percentile that query, store and the benches share."""

from hypothesis import given
from hypothesis import strategies as st

from orca._percentile import percentile, rank

QS = st.floats(min_value=0.0, max_value=1.0)


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=200), QS)
def test_nearest_rank_is_the_smallest_member_covering_q(values: list[int], q: float) -> None:
    """The result is a value seen; at least q of the values are ≤ it, fewer are < it."""
    p = percentile(values, q)
    assert p in values
    n = len(values)
    assert sum(v <= p for v in values) >= q * n
    assert sum(v < p for v in values) < max(q * n, 1)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1), QS, QS)
def test_percentile_grows_with_q(values: list[float], a: float, b: float) -> None:
    """A higher quantile never gives a smaller value (so p50 ≤ p95 everywhere)."""
    lo, hi = sorted((a, b))
    assert percentile(values, lo, 0.0) <= percentile(values, hi, 0.0)


@given(st.integers(1, 10**6), QS)
def test_rank_is_a_position_inside_the_data(n: int, q: float) -> None:
    """The 0-based rank always indexes one of the n sorted values."""
    assert 0 <= rank(n, q) < n


def test_no_values_give_the_stated_empty_value() -> None:
    """Nothing to rank: None, or the caller's ``empty``; known small cases by hand."""
    assert percentile([], 0.95) is None
    assert percentile([], 0.95, 0) == 0
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3
    assert percentile(range(1, 101), 0.95) == 95
    assert percentile([10, 20], 0.0) == 10
