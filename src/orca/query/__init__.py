"""Query: pure projections from store rows to what a reader needs.

Rows in (``orca.store`` dataclasses), text or structures out, no I/O: the
skeleton, one span in full, a diff of two spans, the bug-catalog checks and
stats. The CLI and the server are thin shells over these functions.

Add your own check with the :func:`check` decorator (see ``docs/checks.md``).
"""

from orca._percentile import percentile
from orca.query import _builtin  # noqa: F401  (registers the built-in checks)
from orca.query._cache import (
    BreakpointVerdict,
    breakpoints_json,
    compare_breakpoints,
    render_breakpoints,
)
from orca.query._checkconfig import CONTEXT_WINDOWS, CheckConfig
from orca.query._checkrender import (
    checks_json,
    list_checks_json,
    render_check_list,
    render_checks,
)
from orca.query._checks import p95_by_name
from orca.query._detail import (
    DEFAULT_MAX_BYTES,
    BodySlice,
    body_slices,
    render_span,
    span_detail_json,
)
from orca.query._diff import (
    AttrChange,
    BodyDiff,
    body_diff_json,
    diff_attrs,
    diff_bodies,
    first_difference,
    render_body_diff,
)
from orca.query._format import SHORT_ID, fmt_cost, fmt_count, fmt_duration, short_id
from orca.query._labels import Part
from orca.query._ledger import is_alarm, ledger_parts
from orca.query._listing import render_search, render_traces, search_json, traces_json
from orca.query._registry import (
    CHECKS,
    ENTRY_POINT_GROUP,
    CheckError,
    CheckResult,
    CheckScope,
    CheckSpec,
    Finding,
    check,
    load_check_modules,
    load_entry_points,
    prepare_checks,
    run_checks,
)
from orca.query._resolve import (
    AmbiguousIdError,
    QueryError,
    UnknownIdError,
    parse_duration,
    resolve,
    since_ns,
)
from orca.query._rootcause import Ranked, rank_findings
from orca.query._skeleton import (
    Skeleton,
    SkeletonLine,
    render_plain,
    skeleton,
    skeleton_json,
    summary_json,
)
from orca.query._stats import (
    GROUP_BY,
    StatRow,
    ToolCost,
    group_stats,
    render_stats,
    render_tool_costs,
    span_facts,
    stats,
    stats_json,
    tool_costs,
    tool_costs_json,
)
from orca.query._timeline import FoldGroup, Timeline, TimelineRow, timeline, timeline_json
from orca.query._views import (
    BASELINE_WINDOW,
    CheckRun,
    SpanDetail,
    SpanDiff,
    check_names,
    checks_view,
    diff_view,
    get_span,
    get_trace,
    recent_traces,
    span_view,
)

__all__ = [
    "BASELINE_WINDOW",
    "CHECKS",
    "CONTEXT_WINDOWS",
    "DEFAULT_MAX_BYTES",
    "ENTRY_POINT_GROUP",
    "GROUP_BY",
    "SHORT_ID",
    "AmbiguousIdError",
    "AttrChange",
    "BodyDiff",
    "BodySlice",
    "BreakpointVerdict",
    "CheckConfig",
    "CheckError",
    "CheckResult",
    "CheckRun",
    "CheckScope",
    "CheckSpec",
    "Finding",
    "FoldGroup",
    "Part",
    "QueryError",
    "Ranked",
    "Skeleton",
    "SkeletonLine",
    "SpanDetail",
    "SpanDiff",
    "StatRow",
    "Timeline",
    "TimelineRow",
    "ToolCost",
    "UnknownIdError",
    "body_diff_json",
    "body_slices",
    "breakpoints_json",
    "check",
    "check_names",
    "checks_json",
    "checks_view",
    "compare_breakpoints",
    "diff_attrs",
    "diff_bodies",
    "diff_view",
    "first_difference",
    "fmt_cost",
    "fmt_count",
    "fmt_duration",
    "get_span",
    "get_trace",
    "group_stats",
    "is_alarm",
    "ledger_parts",
    "list_checks_json",
    "load_check_modules",
    "load_entry_points",
    "p95_by_name",
    "parse_duration",
    "percentile",
    "prepare_checks",
    "rank_findings",
    "recent_traces",
    "render_body_diff",
    "render_breakpoints",
    "render_check_list",
    "render_checks",
    "render_plain",
    "render_search",
    "render_span",
    "render_stats",
    "render_tool_costs",
    "render_traces",
    "resolve",
    "run_checks",
    "search_json",
    "short_id",
    "since_ns",
    "skeleton",
    "skeleton_json",
    "span_detail_json",
    "span_facts",
    "span_view",
    "stats",
    "stats_json",
    "summary_json",
    "timeline",
    "timeline_json",
    "tool_costs",
    "tool_costs_json",
    "traces_json",
]
