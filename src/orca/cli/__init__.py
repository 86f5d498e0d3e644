"""The ``orca`` command: a thin shell over the library, one module per command group."""

import os
from collections.abc import Sequence
from typing import Any, Final, NoReturn

import click

from orca._version import __version__
from orca.cli._lazy import LazyCommand as _LazyCommand
from orca.cli._lazy import LazyGroup as _LazyGroup
from orca.errors import OrcaError as _OrcaError

# Every command by import path, with the line `orca --help` shows (kept in step with each
# command's docstring by tests/cli/test_lazy.py): only the command that runs is imported.
COMMANDS: Final[dict[str, _LazyCommand]] = {
    "blobs": _LazyCommand(
        "orca.cli._blobs:blobs",
        "The blob store: large bodies and payloads, compressed and encrypted at rest.",
    ),
    "check": _LazyCommand(
        "orca.cli._check:check",
        "Run the bug-catalog checks; exit 1 when any fails (so scripts can gate on it).",
    ),
    "collect": _LazyCommand(
        "orca.cli._collect:collect",
        "Tail the home's journal and ledger into its store (`orca --store`, else the home's).",
    ),
    "diff": _LazyCommand(
        "orca.cli._span:diff",
        "What changed between two spans: body bytes, body meaning, and attributes.",
    ),
    "export": _LazyCommand("orca.cli._export:export", "Send ORCA's traces elsewhere."),
    "journal": _LazyCommand(
        "orca.cli._journal:journal",
        "Raw journal segments: what writers appended, line by line.",
    ),
    "ledger": _LazyCommand(
        "orca.cli._ledger:ledger",
        "The ledger: durable, hash-chained, signed governed actions.",
    ),
    "mcp": _LazyCommand(
        "orca.cli._mcp:mcp_cmd",
        "Serve the MCP tools (list_traces, skeleton, span, diff, check, …) on stdin/stdout.",
    ),
    "migrate": _LazyCommand(
        "orca.cli._migrate:migrate_cmd",
        "Copy every trace of store SRC into store DST; resumable; counts checked at the end.",
    ),
    "pin": _LazyCommand(
        "orca.cli._prune:pin",
        "Pin a trace (id, unique prefix or `last`) so retention never removes it or its bodies.",
    ),
    "policy": _LazyCommand(
        "orca.cli._policy:policy",
        "Check, test and show governance policies (docs/governance.md).",
    ),
    "prune": _LazyCommand(
        "orca.cli._prune:prune",
        "Apply retention to the store: old traces go (daily roll-ups stay), bodies over the cap.",
    ),
    "replay": _LazyCommand(
        "orca.cli._replay:replay",
        "Replay governed actions from the ledger: inspect them or export them trace-shaped.",
    ),
    "run": _LazyCommand(
        "orca.cli._run:run",
        "Run CMD with ORCA_HOME set, drain the collector, print each trace's skeleton.",
    ),
    "runs": _LazyCommand(
        "orca.cli._runs:runs",
        "Orchestrated runs, newest first: status, tasks, attempts, duration, usage.",
    ),
    "search": _LazyCommand(
        "orca.cli._stats:search",
        "Full-text search over log messages, attribute values and bodies, newest first.",
    ),
    "span": _LazyCommand(
        "orca.cli._span:span",
        "One span in full: attributes, links both ways, logs inside it, body slices.",
    ),
    "sql": _LazyCommand(
        "orca.cli._sql:sql",
        "Run one read-only SQL query on the store; orca_attrs(attrs) reads span attributes.",
    ),
    "stats": _LazyCommand(
        "orca.cli._stats:stats_cmd",
        "Counts, error rate, p50/p95, tokens, cost per group; `stats tools`: tool overhead.",
    ),
    "status": _LazyCommand(
        "orca.cli._status:status",
        "Collector, journal segments (writer alive/exited/crashed, lag), quarantine, store size.",
    ),
    "trace": _LazyCommand(
        "orca.cli._traces:trace",
        "The skeleton of one trace: one line per span, indented, folded when long.",
    ),
    "traces": _LazyCommand(
        "orca.cli._traces:traces",
        "Traces newest first: id, root, start, duration, spans, status, errors, tokens, cost.",
    ),
    "up": _LazyCommand(
        "orca.cli._up:up",
        "Serve the home: HTTP API, SSE, /metrics and the collector, until Ctrl-C or SIGTERM.",
    ),
    "verify": _LazyCommand(
        "orca.cli._verify:verify",
        "Verify the ledger's chain, signatures and checkpoints; exit 0 only when all hold.",
    ),
}


class _OrcaGroup(_LazyGroup):
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
        except _OrcaError as exc:
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


@click.group(cls=_OrcaGroup, lazy=COMMANDS)
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


def main() -> None:
    """Entry point of the ``orca`` console script (errors: see :class:`_OrcaGroup`)."""
    cli.main()


def _describe(exc: Exception) -> str:
    """One line for an error no command turned into an OrcaError."""
    import sqlite3  # only on this path: most commands never load the sqlite3 module

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


__all__ = ["COMMANDS", "cli", "main"]
