"""The timeline: a trace's spans as waterfall rows (start, duration, nesting), for a page.

The skeleton is text for a reader; the timeline is the same tree as data for
a drawing: every span in depth-first order with its offset from the trace's
start and its duration, so a page can draw bars without knowing the store.
Long runs of same-named siblings are marked as a fold *group* rather than
dropped — the page shows them folded and expands them on a click — and, as
in the skeleton, a failed or unfinished span inside a run is never folded.
Governed actions ride on the span they name (see ``_ledger.place``), and
causal links between spans of the trace are listed once, so a page can draw
them. Rows are served in slices (``offset``/``limit``): a 10,000-span trace
is never one response a page must wait for before painting.
"""

from dataclasses import dataclass, field
from typing import Any, Final

from orca.query._format import fmt_duration
from orca.query._labels import label
from orca.query._ledger import is_alarm, place
from orca.query._skeleton import _children, _status, summary_json
from orca.store import LedgerRow, SpanRow, TraceRows, TraceSummary

FOLD_RUN: Final = 6  # a run of more same-named siblings than this folds
FOLD_HEAD: Final = 3
FOLD_TAIL: Final = 1


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One span as a bar: offsets are from the trace's first start, in nanoseconds."""

    span_id: str
    parent_id: str | None
    depth: int
    name: str
    text: str
    offset_ns: int
    duration_ns: int | None
    status: str
    group: int | None = None
    ledger: list[LedgerRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FoldGroup:
    """A run of same-named siblings whose middle is folded (errors stay out of the fold)."""

    id: int
    name: str
    parent_id: str | None
    hidden: int
    duration_ns: int


@dataclass(frozen=True, slots=True)
class Timeline:
    """One trace as waterfall data for a page: rows, fold groups, links, loose ledger entries."""

    summary: TraceSummary
    start_ns: int
    end_ns: int
    rows: list[TimelineRow]
    groups: list[FoldGroup]
    links: list[tuple[str, str, str | None]]
    loose: list[LedgerRow] = field(default_factory=list)  # entries no span of the trace holds


def _troubled(spans: list[SpanRow]) -> set[str]:
    """Ids of spans that are not ok or hold one that is not ok somewhere beneath them."""
    parent = {s.span_id: s.parent_id for s in spans}
    out: set[str] = set()
    for s in spans:
        sid: str | None = s.span_id if s.status != "ok" or s.synthetic else None
        while sid is not None and sid not in out:
            out.add(sid)
            sid = parent.get(sid)
    return out


def _fold_members(sibs: list[SpanRow], troubled: set[str]) -> list[list[int]]:
    """Index lists of each foldable middle of a same-name run among ``sibs``."""
    out: list[list[int]] = []
    i = 0
    while i < len(sibs):
        j = i
        while j < len(sibs) and sibs[j].name == sibs[i].name:
            j += 1
        if j - i > FOLD_RUN:
            middle = [
                k for k in range(i + FOLD_HEAD, j - FOLD_TAIL) if sibs[k].span_id not in troubled
            ]
            if middle:
                out.append(middle)
        i = j
    return out


def timeline(trace: TraceRows) -> Timeline:
    """The rows of one trace in depth-first order, children by start time."""
    roots, kids = _children(trace.spans)
    entries = place(trace)
    troubled = _troubled(trace.spans)
    seen = [s.end_ns or s.start_ns for s in trace.spans] + [e.ts_ns for e in trace.ledger]
    start = min((s.start_ns for s in trace.spans), default=trace.summary.start_ns)
    end = max(seen, default=start)
    rows: list[TimelineRow] = []
    groups: list[FoldGroup] = []
    # An explicit stack (not recursion): a 10,000-deep chain must not overflow.
    stack: list[tuple[SpanRow, int, int | None]] = []

    def push(sibs: list[SpanRow], depth: int, inherited: int | None) -> None:
        group_of: dict[int, int] = {}
        for members in _fold_members(sibs, troubled):
            gid = len(groups)
            hidden = [sibs[k] for k in members]
            total = sum((s.end_ns or s.start_ns) - s.start_ns for s in hidden)
            groups.append(FoldGroup(gid, hidden[0].name, hidden[0].parent_id, len(hidden), total))
            group_of.update(dict.fromkeys(members, gid))
        for k in range(len(sibs) - 1, -1, -1):
            stack.append((sibs[k], depth, inherited if inherited is not None else group_of.get(k)))

    push(roots, 0, None)
    while stack:
        span, depth, group = stack.pop()
        rows.append(
            TimelineRow(
                span_id=span.span_id,
                parent_id=span.parent_id,
                depth=depth,
                name=span.name,
                text=" ".join(t for t, _ in label(span)),
                offset_ns=span.start_ns - start,
                duration_ns=None if span.end_ns is None else span.end_ns - span.start_ns,
                status=_status(span),
                group=group,
                ledger=entries.get(span.span_id, []),
            )
        )
        push(kids.get(span.span_id, []), depth + 1, group)
    ids = {s.span_id for s in trace.spans}
    links = [
        (ln.span_id, ln.to_span_id, ln.reason)
        for ln in trace.links
        if ln.span_id in ids and ln.to_span_id in ids
    ]
    return Timeline(trace.summary, start, end, rows, groups, links, entries.get(None, []))


def _entry_json(e: LedgerRow) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "actor": e.actor, "alarm": is_alarm(e.kind)}


def timeline_json(tl: Timeline, *, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
    """One slice of rows (``offset``, ``limit``) with the whole trace's groups and links."""
    end = len(tl.rows) if limit is None else min(len(tl.rows), offset + limit)
    return {
        "trace": summary_json(tl.summary),
        "start_ns": tl.start_ns,
        "end_ns": tl.end_ns,
        "total": len(tl.rows),
        "offset": offset,
        "rows": [
            {
                "span": r.span_id,
                "parent": r.parent_id,
                "depth": r.depth,
                "name": r.name,
                "text": r.text,
                "offset_ns": r.offset_ns,
                "duration_ns": r.duration_ns,
                "status": r.status,
                "group": r.group,
                "ledger": [_entry_json(e) for e in r.ledger],
            }
            for r in tl.rows[offset:end]
        ],
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "parent": g.parent_id,
                "hidden": g.hidden,
                "duration": fmt_duration(g.duration_ns),
            }
            for g in tl.groups
        ],
        "links": [{"from": a, "to": b, "reason": why} for a, b, why in tl.links],
        "actions": [_entry_json(e) for e in tl.loose],
    }
