"""Option types every command shares: durations and bounded numbers, checked in one place.

A number a person types can be ``nan``, ``inf``, ``1e23`` or a hundred
digits; each of those once reached SQLite or ``time.sleep`` as an
``OverflowError`` traceback or a hang. Every numeric and duration option
goes through a type here, so a bad value is one line and exit 2, before
any work starts.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import click

from orca._duration import HINT, duration_ns
from orca.cli._common import F

MAX_DURATION: Final = timedelta(days=36500)  # a hundred years: past that it is a typo
_MAX_DURATION_NS: Final = MAX_DURATION // timedelta(microseconds=1) * 1000
MAX_COUNT: Final = 1_000_000_000
MAX_ID: Final = 2**63 - 1  # what SQLite and the ledger can hold


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """``250ms``, ``30s``, ``15m``, ``2h``, ``7d``, ``1w`` (any case) → :class:`timedelta`.

    Parsed by :func:`orca._duration.duration_ns`, the parser every ``since`` shares.

    ``bare`` names the unit of a plain number (``--wait 5`` means seconds);
    without it a unit is required. ``none_ok`` also accepts ``none`` (→ None).
    """

    name = "duration"

    def __init__(self, *, bare: str | None = None, none_ok: bool = False) -> None:
        self.bare = bare
        self.none_ok = none_ok

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, timedelta):
            return value
        text = str(value)
        if self.none_ok and text.strip().lower() == "none":
            return None
        ns = duration_ns(text, bare=self.bare)
        if ns is None:
            self.fail(f"{text!r} is not {HINT}")
        if ns > _MAX_DURATION_NS:
            self.fail(f"{text!r} is too long (at most {MAX_DURATION.days}d)")
        return timedelta(microseconds=ns / 1000)


class Count(click.IntRange):
    """A whole number in ``[min, max]``; ``1e3``-style input is refused with the range."""

    name = "count"


def count(min: int = 0, max: int = MAX_COUNT) -> Count:
    """An integer option bounded on both sides (so SQLite never sees an overflow)."""
    return Count(min, max)


def count_option(
    flag: str, default: int, help: str, *, min: int = 0, max: int = MAX_COUNT
) -> Callable[[F], F]:
    """``flag``: a bounded whole number with its default shown in ``--help``."""
    return click.option(flag, type=count(min, max), default=default, show_default=True, help=help)


def entry_id() -> Count:
    """A ledger entry id."""
    return Count(1, MAX_ID)


def age_option(
    flag: str, default: timedelta | str | None, help: str, *, shown: str | bool = True
) -> Callable[[F], F]:
    """``flag``: a duration, or ``none`` (→ None: never), shown as ``AGE`` in ``--help``."""
    return click.option(
        flag,
        type=Duration(none_ok=True),
        default=default,
        show_default=shown,
        metavar="AGE",
        help=help,
    )


SINCE: Final = Duration()
WAIT: Final = Duration(bare="s")


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()
