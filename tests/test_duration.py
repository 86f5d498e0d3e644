"""The one duration parser, and the two shells over it (click option, query ``since``) agreeing."""

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca._duration import UNIT_NS, duration_ns
from orca.cli._options import SINCE, WAIT
from orca.query import QueryError, parse_duration

UNITS = st.sampled_from(sorted(UNIT_NS))


@given(st.integers(0, 10**30), UNITS, st.booleans())
def test_every_unit_in_any_case_is_exact(n: int, unit: str, upper: bool) -> None:
    """``<n><unit>`` is exactly n units, whatever the digits and the case of the unit."""
    assert duration_ns(f"{n}{unit.upper() if upper else unit}") == n * UNIT_NS[unit]


@given(st.integers(0, 5000), UNITS)  # 5000w: inside the option's century
def test_option_and_query_read_the_same_duration(n: int, unit: str) -> None:
    """``--since 2H`` on the command line and ``since=2H`` in a query mean the same span of time."""
    text = f"{n}{unit.upper()}"
    as_option = SINCE.convert(text, None, None)
    assert round(as_option.total_seconds() * 1e9) == parse_duration(text)


@pytest.mark.parametrize("text", ["", "soon", "5", "1e3s", "-5m", "5 parsecs", "nan", "inf s"])
def test_not_a_duration_is_refused_by_both(text: str) -> None:
    """Text that is no duration: None from the parser, a clear error from each shell."""
    assert duration_ns(text) is None
    with pytest.raises(click.BadParameter, match="is not a duration like 30s"):
        SINCE.convert(text, None, None)
    with pytest.raises(QueryError, match="is not a duration like 30s"):
        parse_duration(text)


def test_a_bare_number_takes_the_option_unit() -> None:
    """``--wait 5`` is five seconds; half-units and spaces are fine; a century is too long."""
    assert duration_ns("5", bare="s") == 5 * UNIT_NS["s"]
    assert WAIT.convert("5", None, None).total_seconds() == 5
    assert duration_ns(" 1.5 H ") == 90 * UNIT_NS["m"]
    assert duration_ns(".5s") == 500 * UNIT_NS["ms"]
    with pytest.raises(click.BadParameter, match="too long"):
        SINCE.convert("100000d", None, None)
