"""``orca check``: the bug catalog over one trace or all of them; exit 1 when any check fails."""

import sys
from datetime import timedelta
from pathlib import Path

import click

from orca._config import config_path, config_table
from orca.cli._common import fail, home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, reader, since_option, window
from orca.query import (
    CHECKS,
    CheckConfig,
    check_names,
    checks_view,
    get_trace,
    list_checks_json,
    prepare_checks,
    recent_traces,
    render_check_list,
)

BASELINE_WINDOW = timedelta(days=7)


def _config(home: Path | None) -> CheckConfig:
    """The home's ``[checks]`` thresholds, with user check modules and entry points loaded."""
    return prepare_checks(config_table(home, "checks"), f"{config_path(home)} [checks]")


@click.command("check")
@home_option
@json_option
@click.argument("trace_ref", metavar="ID|last", required=False)
@click.option("--all", "check_all", is_flag=True, help="Check every trace (in the window).")
@since_option
@click.option(
    "--limit",
    type=count(1),
    default=1000,
    show_default=True,
    help="With --all: at most this many newest traces.",
)
@click.option("--list", "list_only", is_flag=True, help="List the checks (built-in and yours).")
@click.option(
    "--only",
    default=None,
    metavar="NAMES",
    help=f"Comma-separated checks to run ({', '.join(CHECKS)}).",
)
def check(
    home: Path | None,
    as_json: bool,
    trace_ref: str | None,
    check_all: bool,
    since: timedelta | None,
    limit: int,
    only: str | None,
    list_only: bool,
) -> None:
    """Run the bug-catalog checks; exit 1 when any fails (so scripts can gate on it).

    Findings come root cause first, each with the span ids that prove it and
    the command to run next. Thresholds: ``[checks]`` in <home>/config.toml.
    """
    cfg = _config(home)
    if list_only:
        if as_json:
            print_json({"checks": list_checks_json()})
        else:
            emit(render_check_list())
        return
    if check_all and trace_ref is not None:
        fail(f"give either a trace ID ({trace_ref!r}) or --all, not both")
    if not check_all and trace_ref is None:
        fail("give a trace ID (or `last`), or --all")
    names = check_names(only)
    with reader(home) as store:
        if check_all:
            traces = recent_traces(store, limit=limit, since_ns=window(since))
            if not traces:  # "all checks passed" over nothing would be a lie
                where = "in that window" if since is not None else "in the store"
                fail(f"no traces to check {where}; record some (orca run) or widen --since")
        else:
            traces = [get_trace(store, str(trace_ref))]
        run = checks_view(
            store,
            traces,
            baseline_since_ns=window(since or BASELINE_WINDOW),
            only=names,
            config=cfg,
            peers=not check_all,
        )
    if as_json:
        print_json(run.to_json())
    else:
        scope = f"{len(traces)} traces" if check_all else f"trace {traces[0].summary.trace_id}"
        emit(f"checked {scope}\n" + run.render())
    if not run.passed:
        sys.exit(1)
