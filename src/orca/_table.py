"""The one way ORCA lays out a plain-text table: padded columns, numbers to the right.

Plain text is what a debugging agent reads and what a pipe carries, so every
listing (``orca traces``, ``stats``, ``status``, ``journal ls``, ``runs``) is
built here: no box drawing, no terminal codes, one header line, one line per
row, trailing spaces trimmed. A column is at least as wide as its title and
its widest cell (``width`` sets a floor, so a listing's columns keep their
place from one run to the next). A leaf module: the query room and the CLI
both use it.
"""

from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Column(NamedTuple):
    """One column: its title, a minimum width, right-aligned (numbers) or not, space before it."""

    title: str
    width: int = 0
    right: bool = False
    gap: int = 1


def text_table(
    columns: Sequence[Column], rows: Iterable[Sequence[str]], *, empty: str | None = None
) -> str:
    """The table as lines, each ending in a newline; ``empty`` is the line shown for no rows."""
    cells = [list(row) for row in rows]  # one cell per column (zip(strict=True) checks)
    widths = [
        max(c.width, len(c.title), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)
    ]
    lines = [_line(columns, widths, [c.title for c in columns])]
    lines += [_line(columns, widths, row) for row in cells]
    if not cells and empty is not None:
        lines.append(empty)
    return "\n".join(lines) + "\n"


def _line(columns: Sequence[Column], widths: list[int], row: Sequence[str]) -> str:
    out = []
    for i, (column, width, cell) in enumerate(zip(columns, widths, row, strict=True)):
        pad = cell.rjust(width) if column.right else cell.ljust(width)
        out.append((" " * column.gap if i else "") + pad)
    return "".join(out).rstrip()
