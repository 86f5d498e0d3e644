"""What every command shares: the --home and --json options and the error shape.

Commands are thin: parse options, call one library function, print. Errors
are one line on stderr and a non-zero exit, never a traceback.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import orjson

from orca._home import resolve_home

F = TypeVar("F", bound=Callable[..., Any])


def home_option(f: F) -> F:
    """``--home H``: the ORCA home (default ``$ORCA_HOME``, else ``./.orca``)."""
    return click.option(
        "--home",
        "home",
        type=click.Path(path_type=Path),
        default=None,
        help="ORCA home directory (default: $ORCA_HOME, else ./.orca).",
    )(f)


def json_option(f: F) -> F:
    """``--json``: print one stable JSON document instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def existing_home(home: Path | None) -> Path:
    """The resolved home, or a clear error when it does not exist or is not a directory.

    Only commands that record create a home; every other command refuses a
    missing one, so a typo'd ``--home`` never silently starts a new, empty home.
    """
    path = resolve_home(home)
    if path.exists() and not path.is_dir():
        fail(f"{path} is a file, not an ORCA home directory; point --home (or $ORCA_HOME) at one")
    if not path.is_dir():
        fail(f"no ORCA home at {path}; record something first (orca run) or fix --home/$ORCA_HOME")
    return path


def writable_home(home: Path | None, *, create: bool = False) -> Path:
    """The resolved home for a command that writes; ``create`` only for commands that record."""
    path = resolve_home(home)
    if not path.exists() and create:
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            fail(f"cannot create the ORCA home {path}: {exc.strerror or exc}")
    path = existing_home(path)
    if not os.access(path, os.W_OK):
        fail(f"the ORCA home {path} is not writable (query commands can still read it)")
    return path


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    click.echo(f"orca: {message}", err=True)
    sys.exit(code)


def print_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())
