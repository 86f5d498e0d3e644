"""``orca span`` and ``orca diff``: drill into one span, or compare two."""

from pathlib import Path
from typing import Literal, cast

import click

from orca.cli._common import home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, reader
from orca.query import DEFAULT_MAX_BYTES, diff_view, span_view


@click.command("span")
@home_option
@json_option
@click.argument("span_ref", metavar="ID")
@click.option(
    "--body",
    "which",
    type=click.Choice(["request", "response", "both", "none"]),
    default="both",
    show_default=True,
)
@click.option(
    "--max-bytes",
    type=count(0, 1 << 40),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Never print more body bytes than this (in total).",
)
def span(home: Path | None, as_json: bool, span_ref: str, which: str, max_bytes: int) -> None:
    """One span in full: attributes, links both ways, logs inside it, body slices."""
    kind = cast(Literal["request", "response", "both", "none"], which)
    with reader(home) as store:
        detail = span_view(store, span_ref, which=kind, max_bytes=max_bytes)
    if as_json:
        print_json(detail.to_json())
    else:
        emit(detail.render())


@click.command("diff")
@home_option
@json_option
@click.argument("span_a", metavar="SPAN_A")
@click.argument("span_b", metavar="SPAN_B")
@click.option(
    "--body",
    "which",
    type=click.Choice(["request", "response"]),
    default="request",
    show_default=True,
)
def diff(home: Path | None, as_json: bool, span_a: str, span_b: str, which: str) -> None:
    """What changed between two spans: body bytes, body meaning, and attributes."""
    side = cast(Literal["request", "response"], which)
    with reader(home) as store:
        d = diff_view(store, span_a, span_b, which=side)
    if as_json:
        print_json(d.to_json())
    else:
        emit(d.render())
