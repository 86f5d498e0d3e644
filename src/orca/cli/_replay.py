"""``orca replay``: read the ledger directly (no collector) as a filtered, deterministic listing."""

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.cli._options import SINCE, count, entry_id
from orca.ledger import Entry, inspect_line, parse_since, read_entries, select, to_trace


@click.group("replay")
def replay() -> None:
    """Replay governed actions from the ledger: inspect them or export them trace-shaped."""


def _selected(f: Callable[..., None]) -> Callable[..., None]:
    """The entry filters and ``--home`` as options; the command gets the entries they select."""

    @functools.wraps(f)
    def command(
        run: str | None,
        from_id: int | None,
        to_id: int | None,
        since: str | None,
        max_n: int | None,
        home: Path | None,
        **rest: Any,
    ) -> None:
        f(_select(home, run, from_id, to_id, since, max_n), **rest)

    for opt in reversed(
        [
            click.option("--run", "run", default=None, help="Only this run."),
            click.option(
                "--from",
                "from_id",
                type=entry_id(),
                default=None,
                help="First entry id (included).",
            ),
            click.option(
                "--to",
                "to_id",
                type=entry_id(),
                default=None,
                help="Last entry id (excluded: [from, to)).",
            ),
            click.option(
                "--since",
                default=None,
                help="Only entries of the last DURATION (2h), or from a time (Unix ns, ISO-8601).",
            ),
            click.option(
                "--max",
                "max_n",
                type=count(0),
                default=None,
                help="At most N entries.",
            ),
            home_option,
        ]
    ):
        command = opt(command)
    return command


def _select(
    home: Path | None,
    run: str | None,
    from_id: int | None,
    to_id: int | None,
    since: str | None,
    max_n: int | None,
) -> list[Entry]:
    entries = read_entries(existing_home(home)).entries
    return select(
        entries,
        run=run,
        from_id=from_id,
        to_id=to_id,
        since=None if since is None else _since_ns(since),
        max_entries=max_n,
    )


def _since_ns(text: str) -> int:
    """A duration (``2h``: the last two hours, as every other ``--since``) or a point in time."""
    try:
        ago = SINCE.convert(text, None, None)
    except click.BadParameter:
        return parse_since(text)
    return time.time_ns() - int(ago.total_seconds() * 1e9)


@replay.command("inspect")
@_selected
@json_option
def inspect(entries: list[Entry], as_json: bool) -> None:
    """One line per entry, in id order."""
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    for e in entries:
        click.echo(inspect_line(e))


@replay.command("to-trace")
@_selected
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: always JSON.")
def to_trace_cmd(entries: list[Entry], as_json: bool) -> None:
    """The selected entries grouped by trace, as JSON (byte-identical for the same ledger)."""
    print_json(to_trace(entries))
