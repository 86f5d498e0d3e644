"""Root cause first: order findings so a cause comes before what it caused, fold the echoes.

A debugging agent reads the first lines of ``orca check``; they must name the
cause, not the step that failed because of it. Two rules, both from the span
tree and links only:

* **Fold.** A *symptom* finding (``error-span``, ``unfinished-span``,
  ``slow-span``) is folded under a *cause* finding when its span is the
  cause's span, or an ancestor the failure propagated to (every span on the
  way up failed too; a slow ancestor just contains it), or, for a crash, an
  unfinished span of the process that died. The cause then says
  ``explains 2 errors``.
* **Order.** Finding A goes before B when A's span is B's span or below it
  (an effect travels up the tree), or B's span links to A's; otherwise
  causes before symptoms, then earlier in time, then catalog order.
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from orca.query._format import short_id, short_trace
from orca.query._registry import CHECKS, CheckResult, Finding
from orca.store import SpanRow, TraceRows

SYMPTOM_FOLDS: Final = ("error-span", "unfinished-span", "slow-span")
_NEVER: Final = 1 << 62


@dataclass(slots=True)
class Ranked:
    """A finding in report order: its id (``check:n``), the next command, what it explains."""

    id: str
    check: str
    finding: Finding
    next: str
    caused_by: str | None = None
    explains: list[str] = field(default_factory=list)


def next_command(f: Finding) -> str:
    """The finding's own next step, else ``orca span`` of its first span."""
    if f.next:
        return f.next
    if f.span_ids:
        return f"orca span {short_id(f.span_ids[0])}"
    return f"orca trace {short_trace(f.trace_id)}" if f.trace_id else "orca traces"


class _Tree:
    def __init__(self, traces: Sequence[TraceRows]) -> None:
        self.by_id: dict[str, SpanRow] = {s.span_id: s for t in traces for s in t.spans}
        self.links: set[tuple[str, str]] = {
            (ln.span_id, ln.to_span_id) for t in traces for ln in t.links
        }
        self._anc: dict[str, list[str]] = {}

    def ancestors(self, sid: str) -> list[str]:
        """Ancestor ids of a span, nearest first."""
        if sid in self._anc:
            return self._anc[sid]
        out: list[str] = []
        cur = self.by_id.get(sid)
        while cur is not None and cur.parent_id and len(out) < 10_000:
            if cur.parent_id in out or cur.parent_id == sid:
                break
            out.append(cur.parent_id)
            cur = self.by_id.get(cur.parent_id)
        self._anc[sid] = out
        return out

    def failed_path(self, below: str, top: str) -> bool:
        """Whether every span strictly between ``below`` and its ancestor ``top`` failed."""
        for aid in self.ancestors(below):
            if aid == top:
                return True
            s = self.by_id.get(aid)
            if s is None or s.status != "error":
                return False
        return False

    def start(self, f: Finding) -> int:
        starts = [self.by_id[i].start_ns for i in f.span_ids if i in self.by_id]
        return min(starts, default=_NEVER)


def _explains(tree: _Tree, cause: Ranked, sym: Ranked) -> bool:
    c, s = cause.finding, sym.finding
    if cause.check == "crashed" and sym.check == "unfinished-span":
        crash = [tree.by_id[i] for i in c.span_ids if i in tree.by_id]
        pids = {str(x.attrs.get("orca.crash.pid", x.pid)) for x in crash}
        return any(
            i in tree.by_id
            and tree.by_id[i].trace_id == c.trace_id
            and str(tree.by_id[i].pid) in pids
            for i in s.span_ids
        )
    for x in s.span_ids:
        for y in c.span_ids:
            if x == y:
                return True
            if x in tree.ancestors(y) and (
                sym.check == "slow-span" or tree.failed_path(y, x) or _is_parent(tree, x, y)
            ):
                return True
    return False


def _is_parent(tree: _Tree, top: str, below: str) -> bool:
    s = tree.by_id.get(below)
    return s is not None and s.parent_id == top


def _depth(tree: _Tree, it: Ranked) -> int:
    return min((len(tree.ancestors(i)) for i in it.finding.span_ids), default=0)


def _before(tree: _Tree, a: Ranked, b: Ranked) -> bool:
    """Whether ``a`` caused ``b``: a's span is b's or below it, or b's span links to a's."""
    for x in a.finding.span_ids:
        anc = tree.ancestors(x)
        for y in b.finding.span_ids:
            if x == y or y in anc or (y, x) in tree.links:
                return True
    return False


def _role(check: str) -> int:
    spec = CHECKS.get(check)
    return 1 if spec is not None and spec.role == "symptom" else 0


def rank_findings(results: Sequence[CheckResult], traces: Sequence[TraceRows] = ()) -> list[Ranked]:
    """Every finding of failed checks, root cause first, each folded one right after its cause."""
    tree = _Tree(traces)
    items: list[Ranked] = []
    for r in results:
        for n, f in enumerate(r.findings, start=1):
            items.append(Ranked(f"{r.name}:{n}", r.name, f, next_command(f)))
    starts = {it.id: tree.start(it.finding) for it in items}
    order = {it.id: i for i, it in enumerate(items)}
    causes = sorted(
        (it for it in items if _role(it.check) == 0),
        key=lambda it: (starts[it.id], order[it.id]),
    )
    by_trace: dict[str | None, list[Ranked]] = {}
    for c in causes:
        by_trace.setdefault(c.finding.trace_id, []).append(c)
    for it in items:
        if it.check not in SYMPTOM_FOLDS:
            continue
        for c in by_trace.get(it.finding.trace_id, []):
            if _explains(tree, c, it):
                it.caused_by = c.id
                c.explains.append(it.id)
                break
    top = [it for it in items if it.caused_by is None]
    ordered = _topo(tree, top, starts, order)
    folded: dict[str, list[Ranked]] = {}
    for it in items:
        if it.caused_by is not None:
            folded.setdefault(it.caused_by, []).append(it)
    by_id = {it.id: it for it in items}
    for cause_id, group in folded.items():
        own = set(by_id[cause_id].finding.span_ids)
        # The step that gave up says more than an echo of the cause's own span: nearest
        # ancestor first, then the outer ones, then the cause's own spans.
        group.sort(key=lambda g: (bool(own & set(g.finding.span_ids)), -_depth(tree, g)))
        by_id[cause_id].explains = [g.id for g in group]
    out: list[Ranked] = []
    for it in ordered:
        out.append(it)
        out.extend(folded.get(it.id, []))
    return out


def _topo(
    tree: _Tree, top: list[Ranked], starts: dict[str, int], order: dict[str, int]
) -> list[Ranked]:
    """Kahn's algorithm over the "caused" edges within each trace; ties by role, time, order."""
    edges: dict[str, set[str]] = {it.id: set() for it in top}
    indeg: dict[str, int] = {it.id: 0 for it in top}
    groups: dict[str | None, list[Ranked]] = {}
    for it in top:
        groups.setdefault(it.finding.trace_id, []).append(it)
    for trace_id, group in groups.items():
        if trace_id is None or len(group) > 2_000:
            continue  # no tree to order by, or too many to pair: time order decides
        for a in group:
            for b in group:
                if a is b or b.id in edges[a.id]:
                    continue
                if _before(tree, a, b) and not _before(tree, b, a):
                    edges[a.id].add(b.id)
                    indeg[b.id] += 1
    by_id = {it.id: it for it in top}

    def key(it: Ranked) -> tuple[int, int, int]:
        return (_role(it.check), starts[it.id], order[it.id])

    heap = [(key(it), it.id) for it in top if indeg[it.id] == 0]
    heapq.heapify(heap)
    out: list[Ranked] = []
    done: set[str] = set()
    while len(out) < len(top):
        if not heap:  # a cycle of links: release the earliest remaining
            rest = min((it for it in top if it.id not in done), key=key)
            heap.append((key(rest), rest.id))
        _, iid = heapq.heappop(heap)
        if iid in done:
            continue
        done.add(iid)
        out.append(by_id[iid])
        for nxt in edges[iid]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0 and nxt not in done:
                heapq.heappush(heap, (key(by_id[nxt]), nxt))
    return out
