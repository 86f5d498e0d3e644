"""The whole-view helpers the CLI and the server share, and the duration parser's bounds."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.query import CHECKS, QueryError, check_names, parse_duration
from orca.query._resolve import MAX_DURATION_NS


def test_check_names_reads_a_comma_list_and_names_the_unknown_one() -> None:
    """`only` lists are trimmed; an unknown name and an empty list are clear errors."""
    assert check_names(None) is None
    assert check_names(" crashed , slow-span ") == ["crashed", "slow-span"]
    with pytest.raises(QueryError, match="no such check 'nope'"):
        check_names("crashed,nope")
    with pytest.raises(QueryError, match="no such check"):
        check_names(" , ")
    assert set(CHECKS) >= {"crashed", "slow-span"}


@given(
    st.integers(min_value=0, max_value=10**400), st.sampled_from(["ms", "s", "m", "h", "d", "w"])
)
def test_any_well_formed_duration_parses_into_int64(n: int, unit: str) -> None:
    """However many digits, a duration is capped (now minus it still fits SQLite's int64)."""
    ns = parse_duration(f"{n}{unit}")
    assert 0 <= ns <= MAX_DURATION_NS
    assert 1_800_000_000_000_000_000 - MAX_DURATION_NS > -(2**63)
