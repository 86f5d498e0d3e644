"""The ``orca`` command: a thin shell over the library, one module per command group."""

import os

import click

from orca._version import __version__
from orca.cli._blobs import blobs
from orca.cli._check import check
from orca.cli._collect import collect
from orca.cli._journal import journal
from orca.cli._ledger import ledger
from orca.cli._mcp import mcp_cmd
from orca.cli._prune import pin, prune
from orca.cli._replay import replay
from orca.cli._run import run
from orca.cli._runs import runs
from orca.cli._span import diff, span
from orca.cli._stats import search, stats_cmd
from orca.cli._status import status
from orca.cli._traces import trace, traces
from orca.cli._verify import verify
from orca.errors import OrcaError


@click.group()
@click.version_option(__version__, prog_name="orca")
@click.option(
    "--store",
    "store_url",
    default=None,
    metavar="URL",
    help="The store: sqlite:///path or postgresql://user@host/db"
    " (default: $ORCA_STORE, else `store` in <home>/config.toml, else <home>/store.sqlite).",
)
def cli(store_url: str | None) -> None:
    """ORCA: a local-first flight recorder and control plane for AI agents."""
    if store_url is not None:
        from orca.store import STORE_ENV, parse_url

        parse_url(store_url, "")  # a bad URL is one clear line now, not a traceback later
        # Through the environment, so every command and the collectors they start agree.
        os.environ[STORE_ENV] = store_url


cli.add_command(journal)
cli.add_command(runs)
cli.add_command(mcp_cmd)
for _ledger_command in (ledger, verify, replay):
    cli.add_command(_ledger_command)
for _store_command in (collect, status, prune, pin, blobs):
    cli.add_command(_store_command)
for _query_command in (traces, trace, span, diff, check, stats_cmd, search, run):
    cli.add_command(_query_command)


def main() -> None:
    """Entry point: any ORCA error becomes one line on stderr and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except OrcaError as exc:
        click.echo(f"orca: {exc}", err=True)
        raise SystemExit(2) from None


__all__ = ["cli", "main"]
