"""``orca prune`` and ``orca pin``: retention of the store, and the traces exempt from it."""

import re
import sys
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import click
from rich.progress import Progress

from orca.cli._common import existing_home, fail, home_option, json_option, print_json
from orca.store import DEFAULT_RETENTION, RetentionPolicy, open_store

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_age(text: str, option: str = "--max-age") -> timedelta | None:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w``; ``none`` keeps traces of any age."""
    if text.lower() == "none":
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip().lower())
    if m is None:
        fail(f"{option}: {text!r} is not an age like 30d, 12h, 90m or none")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def parse_size(text: str) -> int | None:
    """``2G``, ``500M``, ``64k``, ``1048576``; ``none`` puts no cap on body bytes."""
    if text.lower() == "none":
        return None
    m = re.fullmatch(r"(\d+)\s*([kmgt]?)i?b?", text.strip().lower())
    if m is None:
        fail(f"--max-body-bytes: {text!r} is not a size like 2G, 500M or none")
    return int(m.group(1)) * _SIZES[m.group(2)]


@click.command("prune")
@home_option
@click.option(
    "--max-age",
    default=None,
    metavar="AGE",
    help="Delete unpinned traces older than AGE (default 30d; 'none' to keep all).",
)
@click.option(
    "--max-body-bytes",
    default=None,
    metavar="SIZE",
    help="Evict the oldest unpinned bodies above SIZE on disk (default 2G; 'none').",
)
@json_option
def prune(
    home: Path | None, max_age: str | None, max_body_bytes: str | None, as_json: bool
) -> None:
    """Apply retention to the store: old traces go (daily roll-ups stay), bodies over the cap."""
    root = existing_home(home)
    policy = RetentionPolicy(
        max_age=DEFAULT_RETENTION.max_age if max_age is None else parse_age(max_age),
        max_total_body_bytes=DEFAULT_RETENTION.max_total_body_bytes
        if max_body_bytes is None
        else parse_size(max_body_bytes),
    )
    with open_store(root) as store:
        if as_json or not sys.stdout.isatty():
            result = store.prune(policy)
        else:
            with Progress(transient=True) as bar:
                task = bar.add_task("pruning", total=5)

                def report(stage: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=stage)

                result = store.prune(policy, progress=report)
    if as_json:
        print_json(asdict(result))
        return
    click.echo(
        f"removed {result.traces} traces ({result.spans} spans, {result.logs} logs, "
        f"{result.links} links, {result.ledger} mirrored ledger entries), "
        f"{result.bodies_collected} unreferenced and "
        f"{result.bodies_evicted} evicted bodies ({result.body_bytes_freed:,} bytes), "
        f"{result.quarantined} quarantine rows; {result.rollup_rows} roll-up rows kept"
    )


@click.command("pin")
@home_option
@click.argument("trace_ref")
@click.option("--unpin", is_flag=True, help="Make the trace subject to retention again.")
def pin(home: Path | None, trace_ref: str, unpin: bool) -> None:
    """Pin a trace (id or unique prefix) so retention never removes it or its bodies."""
    root = existing_home(home)
    with open_store(root) as store:
        found = store.resolve_id(trace_ref, "trace")
        if not found:
            fail(f"no trace matches {trace_ref!r}; list them with `orca traces`")
        if len(found) > 1:
            fail(f"{trace_ref!r} matches several traces; give more of the id")
        store.pin(found[0], not unpin)
    click.echo(f"{'unpinned' if unpin else 'pinned'} {found[0]}")
