"""``orca traces`` and ``orca trace``: the list, then one trace's skeleton."""

from datetime import timedelta
from pathlib import Path

import click

from orca.cli._common import home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, full_id, reader, since_option, window
from orca.cli._render import emit_skeleton
from orca.query import UnknownIdError, render_traces, skeleton, skeleton_json, traces_json


@click.command("traces")
@home_option
@json_option
@click.option("--limit", default=20, show_default=True, type=count(1), help="At most N.")
@since_option
@click.option("--status", type=click.Choice(["ok", "error", "unfinished", "crashed"]), default=None)
@click.option("--conversation", default=None, metavar="ID", help="Only this conversation.")
def traces(
    home: Path | None,
    as_json: bool,
    limit: int,
    since: timedelta | None,
    status: str | None,
    conversation: str | None,
) -> None:
    """Traces newest first: id, root, start, duration, spans, status, errors, tokens, cost."""
    with reader(home) as store:
        rows = store.list_traces(
            limit=limit, since_ns=window(since), status=status, conversation=conversation
        )
    if as_json:
        print_json(traces_json(rows))
    else:
        emit(render_traces(rows))


@click.command("trace")
@home_option
@json_option
@click.argument("trace_ref", metavar="ID|last")
@click.option("--depth", type=count(0), default=None, help="Show N levels below roots.")
@click.option("--no-fold", is_flag=True, help="Show every span (no folding of long runs).")
def trace(
    home: Path | None, as_json: bool, trace_ref: str, depth: int | None, no_fold: bool
) -> None:
    """The skeleton of one trace: one line per span, indented, folded when long."""
    with reader(home) as store:
        trace_id = full_id(store, trace_ref, "trace")
        rows = store.get_trace(trace_id)
    if rows is None:
        raise UnknownIdError(f"trace {trace_id} vanished (pruned?)")
    sk = skeleton(rows, depth=depth, fold_after=10**9 if no_fold else 6)
    if as_json:
        print_json(skeleton_json(sk))
    else:
        emit_skeleton(sk)
