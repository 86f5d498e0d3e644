"""``orca migrate SRC DST``: copy a store into another (SQLite → PostgreSQL, or back)."""

import sys

import click

from orca.cli._common import fail, json_option, print_json
from orca.cli._render import progress_bar


@click.command("migrate")
@click.argument("src", metavar="SRC")
@click.argument("dst", metavar="DST")
@click.option(
    "--batch",
    "batch_records",
    type=click.IntRange(1, 1_000_000),
    default=5000,
    show_default=True,
    help="Records per destination transaction.",
)
@json_option
def migrate_cmd(src: str, dst: str, batch_records: int, as_json: bool) -> None:
    """Copy every trace of store SRC into store DST; resumable; counts checked at the end.

    SRC and DST are store URLs (sqlite:///path/store.sqlite, postgresql://user@host/db)
    or ORCA homes (their configured store). Run it again after an interruption:
    it continues where the last committed batch ended.
    """
    from orca.store import migrate, open_store

    if src == dst:
        fail("SRC and DST are the same store; name two different ones")
    with open_store(src) as source, open_store(dst, create=True) as target:
        if source.url == target.url:
            fail(f"SRC and DST are both {source.url}; name two different stores")
        with progress_bar(f"{source.url} → {target.url}", quiet=as_json) as bar:
            result = migrate(source, target, batch_records=batch_records, progress=bar)
        src_url, dst_url = source.url, target.url
    if as_json:
        print_json(
            {
                "source": src_url,
                "destination": dst_url,
                "traces": result.traces,
                "copied": result.copied,
                "records": result.records,
                "mismatched": result.mismatched,
                "ok": result.ok,
                "extras": result.extras._asdict(),
            }
        )
    else:
        x = result.extras
        click.echo(
            f"copied {result.copied} of {result.traces} traces ({result.records:,} records)"
            f" and {x.logs} loose logs, {x.quarantined} quarantined lines, {x.rollups} roll-ups,"
            f" {x.processes} writers from {src_url} to {dst_url}; "
            + (
                "every trace reads back the same"
                if result.ok
                else f"{len(result.mismatched)} traces read back differently:"
                f" {', '.join(result.mismatched[:5])}"
            )
        )
    if not result.ok:
        sys.exit(1)
