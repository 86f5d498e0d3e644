"""``orca migrate SRC DST``: copy a store into another (SQLite → PostgreSQL, or back)."""

import sys

import click
from rich.progress import Progress

from orca.cli._common import fail, json_option, print_json


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
        if as_json or not sys.stdout.isatty():
            result = migrate(source, target, batch_records=batch_records)
        else:
            with Progress(transient=True) as bar:
                task = bar.add_task(f"{source.url} → {target.url}", total=None)

                def report(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = migrate(source, target, batch_records=batch_records, progress=report)
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
            }
        )
    else:
        click.echo(
            f"copied {result.copied} of {result.traces} traces ({result.records:,} records)"
            f" from {src_url} to {dst_url}; "
            + (
                "every trace reads back the same"
                if result.ok
                else f"{len(result.mismatched)} traces read back differently:"
                f" {', '.join(result.mismatched[:5])}"
            )
        )
    if not result.ok:
        sys.exit(1)
