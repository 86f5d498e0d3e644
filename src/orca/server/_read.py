"""The read side under ``/api/v1``: traces, skeletons, spans, diffs, checks, stats, search.

Each route is one call into ``orca.query`` and returns exactly what the
matching CLI command prints with ``--json`` — same function, same document —
so a page, an agent and a shell script see one shape. A connection to the
store is opened per request (about 1.5 ms; SQLite connections may not cross
the worker threads) and closed when the answer is built. No SQL here.
"""

import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from orca._config import config_path, config_table
from orca.query import (
    BASELINE_WINDOW,
    CHECKS,
    DEFAULT_MAX_BYTES,
    check_names,
    checks_view,
    diff_view,
    get_trace,
    group_stats,
    prepare_checks,
    recent_traces,
    search_json,
    since_ns,
    skeleton,
    skeleton_json,
    span_view,
    stats_json,
    tool_costs,
    tool_costs_json,
    traces_json,
)
from orca.query._resolve import QueryError
from orca.server import _models as m
from orca.server._errors import InvalidField
from orca.server._responses import JSONOut
from orca.store import TraceStore, open_store

router = APIRouter(prefix="/api/v1", tags=["read"])
MAX_LIMIT = 1000
GroupBy = Literal["name", "model", "component", "tool"]


def store(request: Request) -> Iterator[TraceStore]:
    """The home's store for one request (the collector creates it; readers never do).

    FastAPI opens and closes a sync dependency in worker threads other than the
    route's, so the connection is handed off between them (one user at a time).
    """
    s = open_store(request.app.state.config.home, handoff=True)
    try:
        yield s
    finally:
        s.close()


Store = Annotated[TraceStore, Depends(store)]
# Declared in the schema, checked by orca.query (whose message says what to type instead).
DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*$"
CHECKS_PATTERN = rf"^\s*({'|'.join(CHECKS)})(\s*,\s*({'|'.join(CHECKS)}))*\s*$"
Since = Annotated[
    str | None,
    Query(
        description="Only the last DURATION (30s, 15m, 2h, 7d).",
        max_length=32,
        json_schema_extra={"pattern": DURATION_PATTERN},
    ),
]


def _window(since: str | None) -> int | None:
    try:
        return since_ns(since, time.time_ns())
    except QueryError as exc:
        raise InvalidField("since", str(exc)) from None


def _ok(doc: Any) -> JSONOut:
    return JSONOut(doc)


@router.get("/traces", response_model=m.TraceList, summary="Traces, newest first")
def traces(
    s: Store,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    status: Literal["ok", "error", "unfinished", "crashed"] | None = None,
    conversation: Annotated[str | None, Query(max_length=256)] = None,
    component: Annotated[str | None, Query(max_length=256)] = None,
) -> JSONOut:
    rows = s.list_traces(
        limit=limit,
        since_ns=_window(since),
        status=status,
        conversation=conversation,
        component=component,
    )
    return _ok(traces_json(rows))


@router.get("/traces/{trace_id}", response_model=m.SkeletonDoc, summary="One trace's skeleton")
def trace(
    s: Store,
    trace_id: Annotated[str, m.ID_PATH],
    depth: Annotated[int | None, Query(ge=0, le=1000)] = None,
    fold: bool = True,
) -> JSONOut:
    rows = get_trace(s, trace_id)
    sk = skeleton(rows, depth=depth, fold_after=6 if fold else 10**9)
    return _ok(skeleton_json(sk))


@router.get("/spans/{span_id}", response_model=m.SpanDoc, summary="One span, bounded bodies")
def span(
    s: Store,
    span_id: Annotated[str, m.ID_PATH],
    body: Literal["request", "response", "both", "none"] = "both",
    max_bytes: Annotated[int, Query(ge=0, le=1 << 20)] = DEFAULT_MAX_BYTES,
) -> JSONOut:
    return _ok(span_view(s, span_id, which=body, max_bytes=max_bytes).to_json())


@router.get("/diff", response_model=m.DiffDoc, summary="What changed between two spans")
def diff(
    s: Store,
    a: Annotated[str, m.ID_QUERY],
    b: Annotated[str, m.ID_QUERY],
    body: Literal["request", "response"] = "request",
) -> JSONOut:
    return _ok(diff_view(s, a, b, which=body).to_json())


@router.get("/checks", response_model=m.ChecksDoc, summary="The bug catalog over traces")
def checks(
    request: Request,
    s: Store,
    trace: Annotated[str | None, m.ID_QUERY] = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    only: Annotated[
        str | None,
        Query(
            max_length=512,
            description="Comma-separated check names.",
            json_schema_extra={"pattern": CHECKS_PATTERN},
        ),
    ] = None,
) -> JSONOut:
    """One trace (``trace=ID|last``), else the newest ``limit`` traces in the window."""
    home = request.app.state.config.home
    cfg = prepare_checks(config_table(home, "checks"), f"{config_path(home)} [checks]")
    try:
        names = check_names(only)
    except QueryError as exc:
        raise InvalidField("only", str(exc)) from None
    if trace is not None:
        rows = [get_trace(s, trace)]
    else:
        rows = recent_traces(s, limit=limit, since_ns=_window(since))
    run = checks_view(
        s,
        rows,
        baseline_since_ns=_window(since or BASELINE_WINDOW),
        only=names,
        config=cfg,
        peers=trace is not None,
    )
    return _ok(run.to_json())


@router.get("/stats", response_model=m.StatsDoc, summary="Per group: count, p50/p95, cost")
def stats(s: Store, by: GroupBy = "name", since: Since = None) -> JSONOut:
    rows = group_stats(s.span_groups(group_by=by, since_ns=_window(since)))
    return _ok(stats_json(rows, by))


@router.get("/stats/tools", response_model=m.ToolCostsDoc, summary="Tool prompt overhead")
def stats_tools(s: Store, since: Since = None) -> JSONOut:
    start = _window(since)
    costs = tool_costs(
        s.find_spans(name="prompt.assembly", since_ns=start),
        s.find_spans(name="tool-call", since_ns=start),
    )
    return _ok(tool_costs_json(costs))


@router.get("/search", response_model=m.SearchDoc, summary="Full-text search, newest first")
def search(
    s: Store,
    q: Annotated[str, Query(min_length=1, max_length=512)],
    where: Literal["attrs", "bodies", "logs"] | None = Query(None, alias="in"),
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> JSONOut:
    hits = s.search(q, where=where, since_ns=_window(since), limit=limit)
    return _ok(search_json(q, hits))
