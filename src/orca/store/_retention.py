"""Retention: delete old traces, evict bodies over a byte cap, keep daily roll-ups.

Pruning works on whole traces (never a span without its trace, never a log or
link of a deleted trace left behind) and skips pinned traces and their bodies.
Before a trace's spans are deleted they are folded into ``rollups`` (per UTC
day, name, model and component), so long-range totals survive. Roll-ups hold
only pruned spans: they and the live ``spans`` table never count a span twice.
"""

import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from orca.store import _bodies, _fts, _ledger

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How much to keep. ``None`` switches a limit off.

    ``max_total_body_bytes`` caps the bytes bodies take on disk (after zstd);
    the oldest bodies (first seen earliest) go first, those of pinned traces never.
    """

    max_age: timedelta | None = timedelta(days=30)
    max_total_body_bytes: int | None = 2 * 1024**3


DEFAULT_RETENTION: Final = RetentionPolicy()
"""30 days of traces and at most 2 GiB of stored bodies; pinned traces are kept forever."""


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What one prune removed (and how many roll-up rows it wrote)."""

    traces: int = 0
    spans: int = 0
    logs: int = 0
    links: int = 0
    bodies_evicted: int = 0  # over the byte cap, though still referenced
    bodies_collected: int = 0  # no longer referenced by any span
    body_bytes_freed: int = 0
    quarantined: int = 0
    processes: int = 0
    rollup_rows: int = 0
    ledger: int = 0  # mirrored ledger entries (the ledger itself keeps them)
    blobs_deleted: int = 0  # files removed from the blob store with their body rows


@dataclass(frozen=True, slots=True)
class Rollup:
    """Aggregates of one UTC day's pruned spans for one (name, model, component)."""

    day: str
    name: str
    model: str
    component: str
    span_count: int
    error_count: int
    duration_sum_ns: int
    duration_p95_ns: int | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float


def _bucket(duration_ns: int) -> int:
    """Quarter-octave buckets: a p95 estimate within ~19% at any scale."""
    return int(math.log2(max(duration_ns, 1)) * 4)


def _p95(hist: dict[str, int]) -> int | None:
    total = sum(hist.values())
    if not total:
        return None
    seen = 0
    for bucket in sorted(hist, key=int):
        seen += hist[bucket]
        if seen >= 0.95 * total:
            return int(2 ** ((int(bucket) + 1) / 4))
    return None


def _day(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%d")


@dataclass(slots=True)
class _Fold:
    """One roll-up row being summed: the pruned spans of a (day, name, model, component)."""

    span_count: int = 0
    error_count: int = 0
    duration_sum_ns: int = 0
    hist: dict[str, int] = field(default_factory=dict)  # quarter-octave bucket -> spans
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float = 0.0

    def add(self, other: "_Fold") -> None:
        self.span_count += other.span_count
        self.error_count += other.error_count
        self.duration_sum_ns += other.duration_sum_ns
        for bucket, n in other.hist.items():
            self.hist[bucket] = self.hist.get(bucket, 0) + n
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cost += other.cost


def _roll_up(conn: sqlite3.Connection) -> int:
    """Fold the spans of the doomed traces into ``rollups``; returns rows touched."""
    groups: dict[tuple[str, str, str, str], _Fold] = {}
    for name, model, component, start, end, status, i, o, cr, cw, cost in conn.execute(
        "SELECT name, coalesce(model, ''), component, start_ns, end_ns, status,"
        " coalesce(input_tokens, 0), coalesce(output_tokens, 0), coalesce(cache_read_tokens, 0),"
        " coalesce(cache_write_tokens, 0), coalesce(cost, 0.0)"
        " FROM spans WHERE trace_id IN (SELECT trace_id FROM temp.doomed)"
    ):
        key = (_day(start), name, model, component)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Fold()
        g.span_count += 1
        g.error_count += status == "error"
        if end is not None:
            g.duration_sum_ns += end - start
            b = str(_bucket(end - start))
            g.hist[b] = g.hist.get(b, 0) + 1
        g.input_tokens += i
        g.output_tokens += o
        g.cache_read_tokens += cr
        g.cache_write_tokens += cw
        g.cost += cost
    for key, g in groups.items():
        old = conn.execute(
            "SELECT span_count, error_count, duration_sum_ns, hist, input_tokens, output_tokens,"
            " cache_read_tokens, cache_write_tokens, cost FROM rollups"
            " WHERE day = ? AND name = ? AND model = ? AND component = ?",
            key,
        ).fetchone()
        if old is not None:
            n, errors, duration, hist, tin, tout, tcr, tcw, cost = old
            g.add(_Fold(n, errors, duration, orjson.loads(hist), tin, tout, tcr, tcw, cost))
        conn.execute(
            "INSERT OR REPLACE INTO rollups (day, name, model, component, span_count, error_count,"
            " duration_sum_ns, duration_p95_ns, hist, input_tokens, output_tokens,"
            " cache_read_tokens, cache_write_tokens, cost)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                g.span_count,
                g.error_count,
                g.duration_sum_ns,
                _p95(g.hist),
                orjson.dumps(g.hist).decode(),
                g.input_tokens,
                g.output_tokens,
                g.cache_read_tokens,
                g.cache_write_tokens,
                g.cost,
            ),
        )
    return len(groups)


def _delete(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> int:
    return conn.execute(sql, args).rowcount


def prune(
    conn: sqlite3.Connection,
    policy: RetentionPolicy,
    *,
    now_ns: int | None = None,
    progress: Progress | None = None,
) -> PruneResult:
    """Apply ``policy`` inside the caller's write transaction."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    report = progress or (lambda stage, done, total: None)
    stages = 5
    out: dict[str, int] = {}
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (trace_id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.doomed")
    if policy.max_age is not None:
        cutoff = now_ns - int(policy.max_age.total_seconds() * 1e9)
        conn.execute(
            "INSERT INTO temp.doomed SELECT trace_id FROM traces WHERE start_ns < ? AND pinned = 0",
            (cutoff,),
        )
        report("roll up", 1, stages)
        out["rollup_rows"] = _roll_up(conn)
        _release(conn)
        report("delete traces", 2, stages)
        doomed = "IN (SELECT trace_id FROM temp.doomed)"
        out["spans"] = _delete(conn, f"DELETE FROM spans WHERE trace_id {doomed}")
        out["logs"] = _delete(conn, f"DELETE FROM logs WHERE trace_id {doomed}")
        out["logs"] += _delete(
            conn, "DELETE FROM logs WHERE trace_id IS NULL AND ts_ns < ?", (cutoff,)
        )
        out["links"] = _delete(conn, f"DELETE FROM links WHERE trace_id {doomed}")
        out["ledger"] = _ledger.prune(conn, cutoff)
        out["traces"] = _delete(conn, f"DELETE FROM traces WHERE trace_id {doomed}")
        out["quarantined"] = _delete(conn, "DELETE FROM quarantine WHERE ts_ns < ?", (cutoff,))
        # Writers whose segments are gone and who left nothing behind.
        gone = _delete(
            conn, "DELETE FROM sources WHERE deleted_ns IS NOT NULL AND deleted_ns < ?", (cutoff,)
        )
        del gone
        out["processes"] = _delete(
            conn,
            "DELETE FROM processes WHERE coalesce(last_ns, 0) < ?"
            " AND id NOT IN (SELECT proc_id FROM sources WHERE proc_id IS NOT NULL)"
            " AND id NOT IN (SELECT proc_id FROM spans WHERE proc_id IS NOT NULL)",
            (cutoff,),
        )
    report("collect bodies", 3, stages)
    out["bodies_collected"], out["body_bytes_freed"] = _collect(conn)
    report("evict bodies", 4, stages)
    if policy.max_total_body_bytes is not None:
        evicted, evicted_bytes = _evict(conn, policy.max_total_body_bytes)
        out["bodies_evicted"] = evicted
        out["body_bytes_freed"] += evicted_bytes
    conn.execute("DELETE FROM temp.doomed")
    if any(out.values()):
        # Triggers told the search index each deleted row; merging drops its terms.
        _fts.purge(conn)
    report("done", stages, stages)
    return PruneResult(**out)


# The body references the doomed spans hold, counted per hash in one pass over their rows
# (found through the (trace_id, span_id) index); then one indexed update per hash.
_RELEASED: Final = """
SELECT sha, count(*) FROM (
    SELECT request_body AS sha FROM spans
    WHERE trace_id IN (SELECT trace_id FROM temp.doomed) AND request_body IS NOT NULL
    UNION ALL
    SELECT response_body FROM spans
    WHERE trace_id IN (SELECT trace_id FROM temp.doomed) AND response_body IS NOT NULL
) GROUP BY sha
"""


def _release(conn: sqlite3.Connection) -> int:
    """Body references of the doomed spans stop counting towards de-dup; hashes released.

    Linear in what is pruned: the doomed spans are read once, each released hash is one
    indexed update (it was a count over every span per body: quadratic, 95-144 s to prune
    a tenth of 130,000 spans).
    """
    released = conn.execute(_RELEASED).fetchall()
    # (stored hashes from the span rows: the form bodies.sha256 holds)
    conn.executemany(f"UPDATE bodies SET refs = refs - ?2 WHERE {_bodies.SHA_WHERE}", released)
    return len(released)


def _collect(conn: sqlite3.Connection) -> tuple[int, int]:
    """Delete bodies no span references and no kept body decodes from; (count, bytes)."""
    referenced = {
        r[0]
        for r in conn.execute(
            "SELECT request_body FROM spans WHERE request_body IS NOT NULL"
            " UNION SELECT response_body FROM spans WHERE response_body IS NOT NULL"
        )
    }
    needed: set[int] = set()  # bases of kept bodies
    victims: list[tuple[int]] = []
    freed = 0
    # Newest first: a body's dependants (always newer) are decided before it is.
    for body_id, sha, base, stored in conn.execute(
        "SELECT id, sha256, base, stored FROM bodies ORDER BY id DESC"
    ).fetchall():
        if sha in referenced or body_id in needed:
            if base is not None:
                needed.add(base)
        else:
            victims.append((body_id,))
            freed += stored
    conn.executemany("DELETE FROM bodies WHERE id = ?", victims)
    return len(victims), freed


def _evict(conn: sqlite3.Connection, cap: int) -> tuple[int, int]:
    """Delete the oldest unpinned bodies until stored bytes are at most ``cap``."""
    total = conn.execute("SELECT coalesce(sum(stored), 0) FROM bodies").fetchone()[0]
    if total <= cap:
        return 0, 0
    pinned = {
        r[0]
        for r in conn.execute(
            "SELECT request_body FROM spans WHERE request_body IS NOT NULL AND trace_id IN"
            " (SELECT trace_id FROM traces WHERE pinned = 1)"
            " UNION SELECT response_body FROM spans WHERE response_body IS NOT NULL AND trace_id IN"
            " (SELECT trace_id FROM traces WHERE pinned = 1)"
        )
    }
    rows = conn.execute("SELECT id, sha256, stored, base FROM bodies ORDER BY id").fetchall()
    base_of = {body_id: base for body_id, _, _, base in rows if base is not None}
    size_of = {body_id: stored for body_id, _, stored, _ in rows}
    dependants: dict[int, list[int]] = {}
    for body_id, base in base_of.items():
        dependants.setdefault(base, []).append(body_id)
    keep: set[int] = set()  # pinned bodies and every base they decode from
    for body_id, sha, _, _ in rows:
        while sha in pinned and body_id is not None and body_id not in keep:
            keep.add(body_id)
            body_id = base_of.get(body_id)
    victims: set[int] = set()
    freed = 0
    for body_id, _, _, _ in rows:
        if total - freed <= cap:
            break
        if body_id in keep or body_id in victims:
            continue
        # a body goes with everything that decodes from it (unless that is pinned)
        todo = [body_id]
        group: list[int] = []
        while todo:
            b = todo.pop()
            group.append(b)
            todo.extend(dependants.get(b, []))
        if any(b in keep for b in group):
            continue
        victims.update(group)
        freed += sum(size_of[b] for b in group)
    # Newest first: the search index's trigger decodes each body, so its base must remain.
    conn.executemany("DELETE FROM bodies WHERE id = ?", [(v,) for v in sorted(victims)[::-1]])
    return len(victims), freed


def read_rollups(conn: sqlite3.Connection, since_day: str | None) -> list[Rollup]:
    sql = (
        "SELECT day, name, model, component, span_count, error_count, duration_sum_ns,"
        " duration_p95_ns, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
        " cost FROM rollups"
    )
    args: tuple[str, ...] = ()
    if since_day is not None:
        sql += " WHERE day >= ?"
        args = (since_day,)
    return [Rollup(*r) for r in conn.execute(sql + " ORDER BY day, name, model, component", args)]
