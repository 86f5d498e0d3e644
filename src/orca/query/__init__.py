"""Query: pure projections from store rows to what a reader needs.

Rows in (``orca.store`` dataclasses), text or structures out, no I/O: the
skeleton, one span in full, a diff of two spans, the bug-catalog checks and
stats. The CLI and the server are thin shells over these functions.
"""

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
    "Skeleton",
    "SkeletonLine",
    "render_plain",
    "render_rich",
    "skeleton",
    "skeleton_json",
    "summary_json",
]
