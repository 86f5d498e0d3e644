"""``orca check``: the bug catalog over one trace or all of them; exit 1 when any check fails."""

import sys
from datetime import timedelta
from pathlib import Path

import click

from orca._config import config_path, config_table
from orca.cli._common import fail, home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, full_id, reader, since_option, window
from orca.query import (
    CHECKS,
    CheckConfig,
    checks_json,
    list_checks_json,
    prepare_checks,
    render_check_list,
    render_checks,
    run_checks,
)
from orca.query._resolve import UnknownIdError
from orca.store import TraceReader, TraceRows, TraceSummary

BASELINE_WINDOW = timedelta(days=7)
BASELINE_TRACES = 1000


def _config(home: Path | None) -> CheckConfig:
    """The home's ``[checks]`` thresholds, with user check modules and entry points loaded."""
    return prepare_checks(config_table(home, "checks"), f"{config_path(home)} [checks]")


def _p95(
    store: TraceReader, names: set[str], since: int | None, min_samples: int
) -> dict[str, int]:
    """p95 duration per span name over the store's window: the slow-span baseline.

    Grouped in SQL (``span_groups``): the same nearest-rank p95 as sorting every
    duration, without reading a week of spans into Python.
    """
    return {
        g.key: g.p95_ns
        for g in store.span_groups(group_by="name", since_ns=since)
        if g.key in names and g.timed >= min_samples and g.p95_ns is not None
    }


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
    names = None if only is None else [n.strip() for n in only.split(",") if n.strip()]
    if names is not None:
        unknown = [n for n in names if n not in CHECKS] or ([] if names else [only or ""])
        if unknown:
            fail(f"no such check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    with reader(home) as store:
        traces: list[TraceRows] = []
        if check_all:
            for summary in store.list_traces(limit=limit, since_ns=window(since)):
                rows = store.get_trace(summary.trace_id)
                if rows is not None:
                    traces.append(rows)
            if not traces:  # "all checks passed" over nothing would be a lie
                where = "in that window" if since is not None else "in the store"
                fail(f"no traces to check {where}; record some (orca run) or widen --since")
        else:
            rows = store.get_trace(full_id(store, str(trace_ref), "trace"))
            if rows is None:
                raise UnknownIdError(f"trace {trace_ref} vanished (pruned?)")
            traces.append(rows)
        names_seen = {s.name for t in traces for s in t.spans}
        p95 = _p95(store, names_seen, window(since or BASELINE_WINDOW), cfg.slow_min_samples)
        baseline: list[TraceSummary] | None = None
        if not check_all and (names is None or "cost-spike" in names):
            # cost-spike compares the trace with its recent peers (same root name)
            baseline = store.list_traces(
                limit=BASELINE_TRACES, since_ns=window(since or BASELINE_WINDOW)
            )
        results = run_checks(
            traces, body=store.get_body, p95=p95, only=names, config=cfg, baseline=baseline
        )
    if as_json:
        doc = checks_json(results, traces)
        doc["traces"] = [t.summary.trace_id for t in traces]
        print_json(doc)
    else:
        scope = f"{len(traces)} traces" if check_all else f"trace {traces[0].summary.trace_id}"
        emit(f"checked {scope}\n" + render_checks(results, traces))
    if not all(r.passed for r in results):
        sys.exit(1)
