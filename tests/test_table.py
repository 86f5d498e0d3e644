"""The one plain-text table layout every listing uses."""

from hypothesis import given
from hypothesis import strategies as st

from orca._table import Column, text_table

CELL = st.text(st.characters(codec="ascii", categories=("L", "N", "P")), max_size=12)


@given(st.lists(st.tuples(CELL, CELL, CELL), max_size=20))
def test_columns_line_up_whatever_the_cells(rows: list[tuple[str, str, str]]) -> None:
    """Every cell of a column starts (left) or ends (right) at the same place on every line."""
    columns = (Column("name", 4), Column("n", 3, right=True), Column("note"))
    lines = text_table(columns, rows).splitlines()
    assert len(lines) == 1 + len(rows)
    first = max(4, *(len(r[0]) for r in rows)) if rows else 4
    second = max(3, *(len(r[1]) for r in rows)) if rows else 3
    for line, row in zip(lines[1:], rows, strict=True):
        assert line[:first].rstrip() == row[0]
        assert line[first + 1 : first + 1 + second].lstrip() == row[1]
        assert line[first + 1 + second + 1 :] == row[2]


def test_header_gap_and_empty_line() -> None:
    """Titles head the columns, ``gap`` widens the space before one, ``empty`` means no rows."""
    columns = (Column("trace", 6), Column("cost", right=True), Column("conversation", gap=2))
    assert text_table(columns, [("ab", "$1", "c1")]) == (
        "trace  cost  conversation\nab       $1  c1\n"
    )
    assert text_table(columns, [], empty="(no traces)") == (
        "trace  cost  conversation\n(no traces)\n"
    )
