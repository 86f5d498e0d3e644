"""Span stats grouped in SQL: what ``orca stats`` and the slow-span baseline read.

Handing a million per-span tuples to Python and grouping there took ~2 s;
SQLite can do the same work over narrow index entries. Two plans, both exact
(nearest-rank percentiles, the same numbers as grouping every span in Python):

* **key plan** (the whole store, or a wide window): one covering index per
  group key, ``spans_by_<key> (key, end_ns - start_ns, status, start_ns,
  tokens…, cost)``. ``GROUP BY key`` walks it in order with no sort, and a
  group's p50/p95 is ``ORDER BY duration LIMIT 1 OFFSET rank`` over the same
  index: a skip over small entries, never a sort. Measured on 1M spans: ~0.4 s
  for everything (the Python grouping took 2 s).
* **window plan** (a window holding under 1/:data:`WINDOW_SHARE` of the spans):
  the start-time index finds the window's rows and one sorted pass of
  ``(key, duration)`` gives the percentiles; this beats walking a whole
  key index once the window is small (1% of 1M spans: 0.05 s against 0.3 s).

Spans already pruned are not here: their daily aggregates are ``rollups``.
"""

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

Plan = Literal["auto", "key", "window"]

# Group key -> (column, index). ``model`` and ``tool`` are partial indexes:
# only spans that carry one are in them.
GROUP_KEYS: Final = {
    "name": ("name", "spans_by_name"),
    "model": ("model", "spans_by_model"),
    "component": ("component", "spans_by_component"),
    "tool": ("tool", "spans_by_tool"),
}
DURATION: Final = "end_ns - start_ns"  # the exact expression the indexes hold
WINDOW_SHARE: Final = 20  # window plan below 1/20 of the spans (measured crossover ~5-10%)

# Schema migration (version 3): the covering indexes of the key plan. Each entry is
# ~30 bytes; the collector pays for them on insert (see bench/query.py's build figure).
_COVER: Final = (
    f"{DURATION}, status, start_ns, input_tokens, output_tokens, cache_read_tokens, cost"
)
MIGRATION: Final[list[str]] = [
    f"CREATE INDEX spans_by_name ON spans(name, {_COVER})",
    f"CREATE INDEX spans_by_component ON spans(component, {_COVER})",
    f"CREATE INDEX spans_by_model ON spans(model, {_COVER}) WHERE model IS NOT NULL",
    f"CREATE INDEX spans_by_tool ON spans(tool, {_COVER}) WHERE tool IS NOT NULL",
]

_AGG: Final = (
    "count(*), coalesce(sum(status = 'error'), 0), coalesce(sum(status = 'unfinished'), 0),"
    f" count({DURATION}), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
    " coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost), 0.0)"
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


def rank(n: int, q: float) -> int:
    """0-based nearest-rank position of quantile ``q`` among ``n`` sorted values."""
    return min(n - 1, max(0, math.ceil(q * n) - 1))


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
        raise ValueError(f"group_by must be one of {', '.join(GROUP_KEYS)}, got {group_by!r}")
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
    col, index = GROUP_KEYS[group_by]
    where = f"{col} IS NOT NULL"  # also what lets SQLite use the partial indexes
    args: tuple[int, ...] = ()
    if since_ns is not None:
        where += " AND start_ns >= ?"  # read from the covering index entry
        args = (since_ns,)
    heads = conn.execute(
        f"SELECT {col}, {_AGG} FROM spans INDEXED BY {index} WHERE {where} GROUP BY {col}", args
    ).fetchall()
    pick = (
        f"SELECT {DURATION} FROM spans INDEXED BY {index}"
        f" WHERE {col} = ? AND {DURATION} IS NOT NULL"
        + ("" if since_ns is None else " AND start_ns >= ?")
        + f" ORDER BY {DURATION} LIMIT 1 OFFSET ?"
    )

    def at(key: Any, timed: int, q: float) -> int | None:
        if not timed:
            return None
        row = conn.execute(pick, (key, *args, rank(timed, q))).fetchone()
        return None if row is None else int(row[0])

    return [_group(h, at(h[0], h[4], 0.5), at(h[0], h[4], 0.95)) for h in heads]


def _window_plan(conn: sqlite3.Connection, group_by: str, since_ns: int | None) -> list[SpanGroup]:
    col = GROUP_KEYS[group_by][0]
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
