"""``orca prune`` and ``orca pin``: retention of the store, and the traces exempt from it."""

import re
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import click

from orca.cli._common import fail, home_option, json_option, print_json, writable_home
from orca.cli._options import MAX_ID, age_option
from orca.cli._render import progress_bar
from orca.query import resolve
from orca.store import DEFAULT_RETENTION, RetentionPolicy, open_store

_SIZES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int | None:
    """``2G``, ``500M``, ``64k``, ``1048576``; ``none`` puts no cap on body bytes."""
    if text.lower() == "none":
        return None
    m = re.fullmatch(r"(\d+)\s*([kmgt]?)i?b?", text.strip().lower())
    if m is None:
        fail(f"--max-body-bytes: {text!r} is not a size like 2G, 500M or none")
    size = int(m.group(1)) * _SIZES[m.group(2)]
    if size > MAX_ID:
        fail(f"--max-body-bytes: {text!r} is more than any disk holds; use e.g. 2G or none")
    return size


@click.command("prune")
@home_option
@age_option(
    "--max-age",
    DEFAULT_RETENTION.max_age,
    "Delete unpinned traces older than AGE (default 30d; 'none' to keep all).",
    shown=False,
)
@click.option(
    "--max-body-bytes",
    default=None,
    metavar="SIZE",
    help="Evict the oldest unpinned bodies above SIZE on disk (default 2G; 'none').",
)
@json_option
def prune(
    home: Path | None, max_age: timedelta | None, max_body_bytes: str | None, as_json: bool
) -> None:
    """Apply retention to the store: old traces go (daily roll-ups stay), bodies over the cap."""
    root = writable_home(home)
    policy = RetentionPolicy(
        max_age=max_age,
        max_total_body_bytes=DEFAULT_RETENTION.max_total_body_bytes
        if max_body_bytes is None
        else parse_size(max_body_bytes),
    )
    with open_store(root) as store:
        with progress_bar("pruning", quiet=as_json, total=5) as bar:
            if bar is None:
                result = store.prune(policy)
            else:
                result = store.prune(policy, progress=lambda stage, n, of: bar(n, of, stage))
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
@click.argument("trace_ref", metavar="ID|last")
@click.option("--unpin", is_flag=True, help="Make the trace subject to retention again.")
@json_option
def pin(home: Path | None, trace_ref: str, unpin: bool, as_json: bool) -> None:
    """Pin a trace (id, unique prefix or `last`) so retention never removes it or its bodies."""
    root = writable_home(home)
    with open_store(root) as store:
        trace_id = resolve(store, trace_ref, "trace")
        store.pin(trace_id, not unpin)
    if as_json:
        print_json({"trace": trace_id, "pinned": not unpin})
    else:
        click.echo(f"{'unpinned' if unpin else 'pinned'} {trace_id}")
