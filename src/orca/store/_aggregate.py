"""Span stats grouped in SQL: what ``orca stats`` and the slow-span baseline read.

Handing a million per-span tuples to Python and grouping there took ~2.3 s;
SQLite does the same work over narrow index entries. Two plans, both exact
(nearest-rank percentiles, the same numbers as grouping every span in Python):

* **key plan** (the whole store, or a wide window) reads one covering index,
  ``spans_stats (name, component, model, tool, end_ns - start_ns, status,
  start_ns, tokens…, cost)``. ``GROUP BY name, component, model, tool`` walks
  it in order with no sort, giving a few *leaves*; a group (one name, model,
  component or tool) is the sum of its leaves. Within a leaf the entries are
  sorted by duration, so a group's p50/p95 is ``ORDER BY duration LIMIT 1
  OFFSET rank`` over the ``UNION ALL`` of its leaves, which SQLite answers by
  merging the sorted index ranges (no sort), walked from the nearer end. On
  1M spans: ~0.5 s for any key. One index, not one per key: each index costs
  the collector ~6% of its ingest rate (four cost ~25%, measured).
* **window plan** (a window holding under 1/:data:`WINDOW_SHARE` of the spans):
  the start-time index finds the window's rows and one sorted pass of
  ``(key, duration)`` gives the percentiles; this beats walking the whole
  index once the window is small (1% of 1M spans: 0.03 s against 0.3 s).

Spans already pruned are not here: their daily aggregates are ``rollups``.
"""

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from orca._percentile import rank as rank  # re-exported: _pg_read takes it from here
from orca.errors import UsageError

Plan = Literal["auto", "key", "window"]

LEAF: Final = ("name", "component", "model", "tool")  # the index's leading columns
GROUP_KEYS: Final = {key: i for i, key in enumerate(LEAF)}  # group key -> position in a leaf
INDEX: Final = "spans_stats"
DURATION: Final = "end_ns - start_ns"  # the exact expression the index holds
WINDOW_SHARE: Final = 20  # window plan below 1/20 of the spans (measured crossover ~5-10%)
MAX_MERGE: Final = 64  # leaves merged in one query; beyond, one sort (SQLite's merge is a chain)

# Schema migration (version 3): the key plan's covering index (~40 bytes a span).
# Closed spans only: a span opened in one batch and closed in a later one (every
# LLM step of a live agent) is then indexed once, at its close, not twice.
MIGRATION: Final[list[str]] = [
    f"CREATE INDEX {INDEX} ON spans({', '.join(LEAF)}, {DURATION}, status, start_ns,"
    " input_tokens, output_tokens, cache_read_tokens, cost) WHERE end_ns IS NOT NULL"
]

_AGG: Final = (
    "count(*), coalesce(sum(status = 'error'), 0), coalesce(sum(status = 'unfinished'), 0),"
    f" count({DURATION}), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
    " coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost), 0.0)"
)
_ARM: Final = (
    f"SELECT {DURATION} AS d FROM spans INDEXED BY {INDEX}"
    f" WHERE {' AND '.join(f'{c} IS ?' for c in LEAF)} AND end_ns IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class SpanGroup:
    """Aggregates of the spans sharing one group key (a name, model, component or tool)."""

    key: str
    count: int
    errors: int  # status error
    unfinished: int  # status unfinished
    timed: int  # spans with a duration (closed): the percentiles' population
    p50_ns: int | None  # None when no span of the group has closed
    p95_ns: int | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost: float


def span_groups(
    conn: sqlite3.Connection,
    *,
    group_by: str,
    since_ns: int | None,
    plan: Plan = "auto",
) -> list[SpanGroup]:
    """One :class:`SpanGroup` per key of spans started at or after ``since_ns``, in key order.

    Spans without a value for the key (a model stat over a span with no model)
    are left out. ``plan`` forces a plan (tests run both); ``auto`` picks by
    the window's share of the store.
    """
    if group_by not in GROUP_KEYS:
        raise UsageError(f"group_by must be one of {', '.join(GROUP_KEYS)}, got {group_by!r}")
    if plan == "auto":
        plan = "key" if since_ns is None or _wide(conn, since_ns) else "window"
    if plan == "key":
        return _key_plan(conn, group_by, since_ns)
    return _window_plan(conn, group_by, since_ns)


def _wide(conn: sqlite3.Connection, since_ns: int) -> bool:
    """Whether the window holds at least 1/WINDOW_SHARE of the spans (two index counts)."""
    total = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    inside = conn.execute(
        "SELECT count(*) FROM spans INDEXED BY spans_start WHERE start_ns >= ?", (since_ns,)
    ).fetchone()[0]
    return bool(inside * WINDOW_SHARE >= total)


def _group(head: tuple[Any, ...], p50: int | None, p95: int | None) -> SpanGroup:
    key, count, errors, unfinished, timed, tin, tout, tcache, cost = head
    return SpanGroup(
        str(key), count, errors, unfinished, timed, p50, p95, tin, tout, tcache, float(cost)
    )


def _key_plan(conn: sqlite3.Connection, group_by: str, since_ns: int | None) -> list[SpanGroup]:
    pos = GROUP_KEYS[group_by]
    window = "" if since_ns is None else " AND start_ns >= ?"  # read from the index entry
    args: tuple[int, ...] = () if since_ns is None else (since_ns,)
    leaves = conn.execute(
        f"SELECT {', '.join(LEAF)}, {_AGG} FROM spans INDEXED BY {INDEX}"
        f" WHERE end_ns IS NOT NULL{window} GROUP BY {', '.join(LEAF)}",
        args,
    ).fetchall()
    # Open spans are not in the index (see MIGRATION); they are few, and the
    # schema's partial index of open spans finds them.
    unindexed = window.replace("start_ns", "+start_ns")  # '+': not through the start index
    leaves += conn.execute(
        f"SELECT {', '.join(LEAF)}, {_AGG} FROM spans"
        f" WHERE end_ns IS NULL{unindexed} GROUP BY {', '.join(LEAF)}",
        args,
    ).fetchall()
    groups: dict[Any, list[tuple[Any, ...]]] = {}
    for leaf in leaves:
        if leaf[pos] is not None:
            groups.setdefault(leaf[pos], []).append(leaf)
    out = []
    for key in sorted(groups):
        parts = groups[key]
        sums = [sum(leaf[i] for leaf in parts) for i in range(4, 12)]
        timed = sums[3]
        timed_leaves = [leaf[:4] for leaf in parts if leaf[7]]
        p50, p95 = (
            _at_rank(conn, group_by, key, timed_leaves, rank(timed, q), timed, window, args)
            if timed
            else None
            for q in (0.5, 0.95)
        )
        out.append(_group((key, *sums), p50, p95))
    return out


def _at_rank(
    conn: sqlite3.Connection,
    group_by: str,
    key: Any,
    leaves: Sequence[tuple[Any, ...]],
    k: int,
    n: int,
    window: str,
    args: tuple[int, ...],
) -> int | None:
    """The ``k``-th smallest of a group's ``n`` durations, from the nearer end."""
    order, offset = ("ASC", k) if k < n // 2 else ("DESC", n - 1 - k)
    if len(leaves) <= MAX_MERGE:
        arms = " UNION ALL ".join(_ARM + window for _ in leaves)
        sql = f"SELECT d FROM ({arms}) ORDER BY d {order} LIMIT 1 OFFSET ?"
        params: tuple[Any, ...] = (*(v for leaf in leaves for v in (*leaf, *args)), offset)
    else:  # too many leaves to merge: one sort of the group's entries
        sql = (
            f"SELECT {DURATION} FROM spans INDEXED BY {INDEX} WHERE {group_by} = ?"
            f" AND end_ns IS NOT NULL{window} ORDER BY {DURATION} {order} LIMIT 1 OFFSET ?"
        )
        params = (key, *args, offset)
    row = conn.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


def _window_plan(conn: sqlite3.Connection, group_by: str, since_ns: int | None) -> list[SpanGroup]:
    col = group_by
    where = f"{col} IS NOT NULL"
    args: tuple[int, ...] = ()
    source = "spans"
    if since_ns is not None:
        where += " AND start_ns >= ?"
        args = (since_ns,)
        source = "spans INDEXED BY spans_start"
    heads = conn.execute(
        f"SELECT {col}, {_AGG} FROM {source} WHERE {where} GROUP BY {col}", args
    ).fetchall()
    durations = _sorted_durations(
        conn.execute(
            f"SELECT {col}, {DURATION} FROM {source} WHERE {where} AND end_ns IS NOT NULL"
            f" ORDER BY {col}, {DURATION}",
            args,
        )
    )

    def at(d: list[int], q: float) -> int | None:
        return d[rank(len(d), q)] if d else None

    out = []
    for h in heads:
        d = durations.get(h[0], [])
        out.append(_group(h, at(d, 0.5), at(d, 0.95)))
    return out


def _sorted_durations(rows: Iterable[tuple[Any, int]]) -> dict[Any, list[int]]:
    """``(key, duration)`` rows sorted by key then duration, as one sorted list per key."""
    out: dict[Any, list[int]] = {}
    for key, duration in rows:
        d = out.get(key)
        if d is None:
            d = out[key] = []
        d.append(duration)
    return out
