"""What the query commands share: opening the store, ids, windows, text vs terminal output."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

import click

from orca.cli._common import existing_home
from orca.cli._options import SINCE
from orca.query import resolve, since_ns
from orca.store import TraceReader, TraceStore, open_store


@contextmanager
def reader(home: Path | None) -> Iterator[TraceStore]:
    """The home's store (--store, $ORCA_STORE, config, default), read side.

    A clear error when the home or its store is missing.
    """
    root = existing_home(home)
    store = open_store(root)
    try:
        yield store
    finally:
        store.close()


def full_id(store: TraceReader, ref: str, kind: Literal["trace", "span"]) -> str:
    return resolve(store, ref, kind)


def window(since: timedelta | str | None) -> int | None:
    """The start (Unix ns) of the last ``since``, or None for all time."""
    if isinstance(since, timedelta):
        return time.time_ns() - int(since.total_seconds() * 1e9)
    return since_ns(since, time.time_ns())


def emit(plain: str) -> None:
    """Text a query rendered, as it is (no trailing newline added)."""
    click.echo(plain, nl=False)


since_option = click.option(
    "--since",
    type=SINCE,
    default=None,
    metavar="DURATION",
    help="Only the last DURATION (250ms, 30s, 15m, 2h, 7d, 1w).",
)
