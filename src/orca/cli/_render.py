"""Colour for a terminal: the query room's plain words, styled by the meaning it tags them with.

``orca.query`` returns data and plain text only (a debugging agent reads the
plain form); each part of a skeleton line carries a meaning (``error``,
``dur``, ``fold`` …) and this module alone turns meanings into ``rich``
styles. ``rich`` is imported only when a terminal is there to show colour.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, Protocol

import click

if TYPE_CHECKING:  # at run time imported where used: a progress bar needs no query room
    from rich.text import Text

    from orca.query import Part, Skeleton

STYLES: Final = {
    "name": "bold",
    "dim": "dim",
    "dur": "cyan",
    "ok": "green",
    "error": "bold red",
    "warn": "yellow",
    "crash": "bold white on red",
    "fold": "dim italic",
    "id": "dim",
    "ledger": "magenta",
}


def is_terminal() -> bool:
    return sys.stdout.isatty()


def skeleton_text(sk: "Skeleton") -> "Text":
    """The terminal form: the same words as ``render_plain``, coloured by meaning."""
    from rich.text import Text

    from orca.query import SHORT_ID, short_id

    text = Text()
    _append_parts(text, sk.header)
    text.append("\n")
    blank = " " * SHORT_ID
    for line in sk.lines:
        text.append(short_id(line.span_id) if line.span_id else blank, style=STYLES["id"])
        text.append(" " + "  " * line.depth)
        _append_parts(text, line.parts)
        text.append("\n")
    return text


def _append_parts(text: "Text", parts: "list[Part]") -> None:
    for i, (t, meaning) in enumerate(parts):
        if i:
            text.append(" ")
        text.append(t, style=STYLES.get(meaning, ""))


def print_styled(text: "Text") -> None:
    from rich.console import Console

    Console(highlight=False, soft_wrap=True).print(text, end="")


class Report(Protocol):
    """Moves a progress bar: ``done`` of ``total``, and the stage now running if it changed."""

    def __call__(self, done: int, total: int, stage: str | None = None) -> None: ...


@contextmanager
def progress_bar(label: str, *, quiet: bool, total: int | None = None) -> Iterator[Report | None]:
    """A transient progress bar on a terminal; None when piped or printing JSON (no rich then)."""
    if quiet or not is_terminal():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)

        def report(done: int, total: int, stage: str | None = None) -> None:
            if stage is None:
                bar.update(task, completed=done, total=total)
            else:
                bar.update(task, completed=done, total=total, description=stage)

        yield report


def emit_skeleton(sk: "Skeleton") -> None:
    """A skeleton coloured in a terminal, plain when piped (what a debugging agent reads)."""
    from orca.query import render_plain

    if is_terminal():
        print_styled(skeleton_text(sk))
    else:
        click.echo(render_plain(sk), nl=False)
