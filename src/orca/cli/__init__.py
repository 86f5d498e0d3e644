"""The ``orca`` command: a thin shell over the library, one module per command group."""

import os
import sqlite3
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from orca._version import __version__
from orca.cli._blobs import blobs
from orca.cli._check import check
from orca.cli._collect import collect
from orca.cli._export import export
from orca.cli._journal import journal
from orca.cli._ledger import ledger
from orca.cli._mcp import mcp_cmd
from orca.cli._migrate import migrate_cmd
from orca.cli._policy import policy
from orca.cli._prune import pin, prune
from orca.cli._replay import replay
from orca.cli._run import run
from orca.cli._runs import runs
from orca.cli._span import diff, span
from orca.cli._stats import search, stats_cmd
from orca.cli._status import status
from orca.cli._traces import trace, traces
from orca.cli._up import up
from orca.cli._verify import verify
from orca.errors import OrcaError


class OrcaGroup(click.Group):
    """The ``orca`` group: every error is one line on stderr, never a traceback or usage block.

    Done in ``main`` itself so the console script and in-process callers
    (``CliRunner``) behave the same. ``ORCA_DEBUG=1`` re-raises for a traceback.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            raise SystemExit(130) from None
        except click.UsageError as exc:  # one line, not click's usage block: agents read stderr
            where = exc.ctx.command_path if exc.ctx is not None else "orca"
            click.echo(f"{where}: {exc.format_message()} (see `{where} --help`)", err=True)
            raise SystemExit(exc.exit_code) from None
        except click.ClickException as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except OrcaError as exc:
            _fail(str(exc))
        except BrokenPipeError:
            raise SystemExit(141) from None  # `orca traces | head`: the reader left
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        except Exception as exc:
            if os.environ.get("ORCA_DEBUG"):
                raise
            _fail(_describe(exc))
        raise SystemExit(code if isinstance(code, int) else 0)


@click.group(cls=OrcaGroup)
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
        # Through the environment, so every command and the collectors they start agree;
        # put back when the command ends (an in-process caller keeps its own environment).
        before = os.environ.get(STORE_ENV)
        os.environ[STORE_ENV] = store_url

        def restore() -> None:
            if before is None:
                os.environ.pop(STORE_ENV, None)
            else:
                os.environ[STORE_ENV] = before

        click.get_current_context().call_on_close(restore)


cli.add_command(journal)
cli.add_command(export)
cli.add_command(up)
cli.add_command(policy)
cli.add_command(runs)
cli.add_command(mcp_cmd)
for _ledger_command in (ledger, verify, replay):
    cli.add_command(_ledger_command)
for _store_command in (collect, status, prune, pin, blobs, migrate_cmd):
    cli.add_command(_store_command)
for _query_command in (traces, trace, span, diff, check, stats_cmd, search, run):
    cli.add_command(_query_command)


def main() -> None:
    """Entry point of the ``orca`` console script (errors: see :class:`OrcaGroup`)."""
    cli.main()


def _describe(exc: Exception) -> str:
    """One line for an error no command turned into an OrcaError."""
    if isinstance(exc, sqlite3.DatabaseError):
        return (
            f"the store cannot be read ({exc}); if store.sqlite is damaged, move it aside "
            "and rebuild it from the journal with `orca collect --once`"
        )
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}; check the path and its permissions"
    return f"unexpected {type(exc).__name__}: {exc} (ORCA_DEBUG=1 shows the traceback)"


def _fail(message: str) -> NoReturn:
    first = message.strip().splitlines()[0] if message.strip() else "error"
    click.echo(f"orca: {first}", err=True)
    raise SystemExit(2)


__all__ = ["cli", "main"]
