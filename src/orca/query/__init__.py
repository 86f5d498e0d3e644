"""Query: pure projections from store rows to what a reader needs.

Rows in (``orca.store`` dataclasses), text or structures out, no I/O: the
skeleton, one span in full, a diff of two spans, the bug-catalog checks and
stats. The CLI and the server are thin shells over these functions.
"""

from orca.query._checks import (
    CHECKS,
    CheckResult,
    Finding,
    checks_json,
    p95_by_name,
    percentile,
    render_checks,
    run_checks,
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
from orca.query._skeleton import (
    Skeleton,
    SkeletonLine,
    render_plain,
    render_rich,
    skeleton,
    skeleton_json,
    summary_json,
)

__all__ = [
    "CHECKS",
    "AttrChange",
    "BodyDiff",
    "CheckResult",
    "Finding",
    "Skeleton",
    "SkeletonLine",
    "body_diff_json",
    "checks_json",
    "diff_attrs",
    "diff_bodies",
    "first_difference",
    "p95_by_name",
    "percentile",
    "render_body_diff",
    "render_checks",
    "render_plain",
    "render_rich",
    "run_checks",
    "skeleton",
    "skeleton_json",
    "summary_json",
]
