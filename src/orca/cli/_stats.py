"""``orca stats`` (and ``orca stats tools``) and ``orca search``."""

from datetime import timedelta
from pathlib import Path
from typing import Literal, cast

import click

from orca.cli._common import home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, reader, since_option, window
from orca.query import (
    GROUP_BY,
    group_stats,
    render_search,
    render_stats,
    render_tool_costs,
    search_json,
    stats_json,
    tool_costs,
    tool_costs_json,
)


@click.command("stats")
@home_option
@json_option
@click.argument("what", type=click.Choice(["spans", "tools"]), default="spans", required=False)
@click.option("--by", type=click.Choice(GROUP_BY), default="name", show_default=True)
@since_option
def stats_cmd(
    home: Path | None, as_json: bool, what: str, by: str, since: timedelta | None
) -> None:
    """Counts, error rate, p50/p95, tokens, cost per group; `stats tools`: tool overhead."""
    start = window(since)
    with reader(home) as store:
        if what == "tools":
            costs = tool_costs(
                store.find_spans(name="prompt.assembly", since_ns=start),
                store.find_spans(name="tool-call", since_ns=start),
            )
            if as_json:
                print_json(tool_costs_json(costs))
            else:
                emit(render_tool_costs(costs))
            return
        rows = group_stats(store.span_groups(group_by=by, since_ns=start))
    if as_json:
        print_json(stats_json(rows, by))
    else:
        emit(render_stats(rows, by))


@click.command("search")
@home_option
@json_option
@click.argument("text")
@click.option("--in", "where", type=click.Choice(["attrs", "bodies", "logs"]), default=None)
@since_option
@click.option("--limit", type=count(1), default=20, show_default=True)
def search(
    home: Path | None,
    as_json: bool,
    text: str,
    where: str | None,
    since: timedelta | None,
    limit: int,
) -> None:
    """Full-text search over log messages, attribute values and bodies, newest first."""
    place = cast(Literal["attrs", "bodies", "logs"] | None, where)
    with reader(home) as store:
        hits = store.search(text, where=place, since_ns=window(since), limit=limit)
    if as_json:
        print_json(search_json(text, hits))
    else:
        emit(render_search(hits))
