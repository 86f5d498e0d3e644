"""The skeleton: one line per span, indented by depth, the first thing a reader sees.

Built to be read by a debugging LLM agent: each line is a span's short label
(kind, model or tool, duration, tokens, outcome) after its short id, so the
next command (``orca span <id>``) can be typed straight from it. Long runs of
same-named siblings fold into one ``… 40 more tool-call spans, 2 errors``
line, but failed and unfinished spans inside a run stay visible (up to
``keep_errors``): the root cause is the one line a fold must never hide.
Governed actions from the ledger appear inline, in time order, under the span
they name (see ``_ledger``); they are never folded.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from orca.query._format import (
    SHORT_ID,
    clip,
    fmt_cost,
    fmt_count,
    fmt_duration,
    short_id,
    short_trace,
)
from orca.query._labels import Part, label
from orca.query._ledger import entry_alarm, ledger_parts, place
from orca.store import LedgerRow, SpanRow, TraceRows, TraceSummary

FOLD_AFTER: Final = 6
HEAD: Final = 3
TAIL: Final = 1
KEEP_ERRORS: Final = 3


@dataclass(frozen=True, slots=True)
class SkeletonLine:
    """One line: a span (``span_id`` set), a fold summary, or a ledger entry.

    Each part is (text, meaning): ``error``, ``dur``, ``fold`` … — data the
    shells style (the CLI colours it in a terminal); :func:`render_plain`
    joins the texts.

    A fold line and a ledger line have ``span_id`` None; a ledger line has ``ledger_id``.
    """

    depth: int
    span_id: str | None
    status: str
    parts: list[Part]
    folded: int = 0
    ledger_id: int | None = None


@dataclass(frozen=True, slots=True)
class Skeleton:
    """One trace as ``orca trace`` shows it: its header and one line per span, folds included."""

    summary: TraceSummary
    header: list[Part]
    lines: list[SkeletonLine] = field(default_factory=list)


def iso_ns(ns: int) -> str:
    """A Unix-ns timestamp as UTC ISO-8601 to the second (``2024-05-01T12:00:00Z``)."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header_parts(s: TraceSummary, last_seen_ns: int | None = None) -> list[Part]:
    """``trace 4bf92f35 turn crashed 2024-… 3.2s spans=12 errors=1 in=1.6k out=190 $0.0031``.

    An unfinished trace has no duration; ``last_seen_ns`` (its latest record)
    gives a lower bound, shown as ``≥4.1s``.
    """
    if s.end_ns is not None:
        dur_text = fmt_duration(s.end_ns - s.start_ns)
    elif last_seen_ns is not None:
        dur_text = "≥" + fmt_duration(last_seen_ns - s.start_ns)
    else:
        dur_text = "?"
    status_style = "ok" if s.status == "ok" else ("warn" if s.status == "unfinished" else "error")
    parts: list[Part] = [
        ("trace", "name"),
        (short_trace(s.trace_id), "id"),
        (s.root_name, ""),
        (s.status, status_style),
        (iso_ns(s.start_ns), "dim"),
        (dur_text, "dur"),
        (f"spans={s.span_count}", "dim"),
    ]
    if s.error_count:
        parts.append((f"errors={s.error_count}", "error"))
    if s.unfinished_count:
        parts.append((f"unfinished={s.unfinished_count}", "warn"))
    for value, name in (
        (s.input_tokens, "in"),
        (s.output_tokens, "out"),
        (s.cache_read_tokens, "cache_read"),
        (s.cache_write_tokens, "cache_write"),
    ):
        if value:
            parts.append((f"{name}={fmt_count(value)}", "dim"))
    if s.cost:
        parts.append((fmt_cost(s.cost), "dim"))
    if s.conversation_id:
        parts.append((f"conv={clip(s.conversation_id, 24)}", ""))
    return parts


def _children(spans: Iterable[SpanRow]) -> tuple[list[SpanRow], dict[str, list[SpanRow]]]:
    spans = list(spans)
    ids = {s.span_id for s in spans}
    roots: list[SpanRow] = []
    kids: dict[str, list[SpanRow]] = {}
    for s in spans:
        if s.parent_id is None or s.parent_id not in ids or s.parent_id == s.span_id:
            roots.append(s)
        else:
            kids.setdefault(s.parent_id, []).append(s)
    key = _order
    roots.sort(key=key)
    for group in kids.values():
        group.sort(key=key)
    return roots, kids


def _order(s: SpanRow) -> tuple[int, str]:
    return (s.start_ns, s.span_id)


def _status(span: SpanRow) -> str:
    return "crashed" if span.synthetic else span.status


def _fold_plan(run: list[SpanRow], fold_after: int, head: int, tail: int, keep: int) -> list[int]:
    """Indices of a same-name run to show; the rest fold."""
    n = len(run)
    if n <= fold_after:
        return list(range(n))
    shown = set(range(min(head, n))) | set(range(max(0, n - tail), n))
    kept = 0
    for i in range(head, n - tail):
        if kept >= keep:
            break
        if run[i].status != "ok":
            shown.add(i)
            kept += 1
    return sorted(shown)


_PlanItem = tuple[SpanRow | None, list[SpanRow]] | LedgerRow


class _Builder:
    def __init__(
        self,
        kids: dict[str, list[SpanRow]],
        max_depth: int | None,
        fold_after: int,
        head: int,
        tail: int,
        keep_errors: int,
        ledger: dict[str | None, list[LedgerRow]] | None = None,
        handoffs: dict[str, list[str]] | None = None,
    ) -> None:
        self.kids = kids
        self.handoffs = handoffs or {}
        self.ledger = ledger or {}
        self.max_depth = max_depth
        self.fold = (fold_after, head, tail, keep_errors)
        self.lines: list[SkeletonLine] = []
        self._sizes: dict[str, int] = {}

    def subtree(self, span_id: str) -> int:
        """Descendants of a span (not counting it), iteratively: traces can be deep."""
        if span_id in self._sizes:
            return self._sizes[span_id]
        order: list[str] = []
        stack = [span_id]
        while stack:
            sid = stack.pop()
            order.append(sid)
            stack.extend(k.span_id for k in self.kids.get(sid, ()))
        for sid in reversed(order):
            self._sizes[sid] = sum(1 + self._sizes[k.span_id] for k in self.kids.get(sid, ()))
        return self._sizes[span_id]

    def emit_level(self, siblings: list[SpanRow], depth: int) -> None:
        # Explicit stack of (siblings, depth, position, parent) so a 10,000-deep chain
        # cannot overflow.
        stack: list[tuple[list[SpanRow], int, int, str | None]] = [(siblings, depth, 0, None)]
        plans: dict[int, list[_PlanItem]] = {}
        while stack:
            sibs, d, pos, parent = stack.pop()
            key = id(sibs)
            if key not in plans:
                plans[key] = _merge(self._plan(sibs), self.ledger.get(parent, []))
            plan = plans[key]
            if pos >= len(plan):
                del plans[key]
                continue
            stack.append((sibs, d, pos + 1, parent))
            item = plan[pos]
            if isinstance(item, LedgerRow):
                status = "error" if entry_alarm(item) else "ok"
                self.lines.append(SkeletonLine(d, None, status, ledger_parts(item), 0, item.id))
                continue
            span, hidden = item
            if span is None:
                self.lines.append(self._fold_line(hidden, d))
                continue
            children = self.kids.get(span.span_id, [])
            below = bool(children) or span.span_id in self.ledger
            parts = label(span)
            for target in self.handoffs.get(span.span_id, ()):
                parts = [*parts, (f"⇢ {short_id(target)}", "dim")]
            if children and self.max_depth is not None and d >= self.max_depth:
                parts = [*parts, (f"(+{self.subtree(span.span_id)} below)", "fold")]
            if self.max_depth is not None and d >= self.max_depth:
                below = False
            self.lines.append(SkeletonLine(d, span.span_id, _status(span), parts))
            if below:
                stack.append((children, d + 1, 0, span.span_id))

    def _plan(self, sibs: list[SpanRow]) -> list[tuple[SpanRow | None, list[SpanRow]]]:
        """Siblings in order, same-name runs folded: (span, []) or (None, hidden spans)."""
        out: list[tuple[SpanRow | None, list[SpanRow]]] = []
        i = 0
        while i < len(sibs):
            j = i
            while j < len(sibs) and sibs[j].name == sibs[i].name:
                j += 1
            run = sibs[i:j]
            shown = _fold_plan(run, *self.fold)
            if len(shown) == len(run):
                out.extend((s, []) for s in run)
            else:
                keep = set(shown)
                hidden = [s for k, s in enumerate(run) if k not in keep]
                folded = False
                for k, s in enumerate(run):
                    if k in keep:
                        out.append((s, []))
                    elif not folded:
                        out.append((None, hidden))
                        folded = True
            i = j
        return out

    def _fold_line(self, hidden: list[SpanRow], depth: int) -> SkeletonLine:
        errors = sum(1 for s in hidden if s.status == "error")
        unfinished = sum(1 for s in hidden if s.status == "unfinished")
        nested = sum(self.subtree(s.span_id) for s in hidden)
        total = sum(s.duration_ns or 0 for s in hidden)
        text = f"… {len(hidden)} more {hidden[0].name} spans"
        if errors:
            text += f", {errors} error" + ("s" if errors > 1 else "")
        if unfinished:
            text += f", {unfinished} unfinished"
        parts: list[Part] = [(text, "fold"), (f"Σ{fmt_duration(total)}", "dur")]
        if nested:
            parts.append((f"(+{nested} nested)", "fold"))
        status = "error" if errors else ("unfinished" if unfinished else "ok")
        return SkeletonLine(depth, None, status, parts, folded=len(hidden) + nested)


def _merge(
    plan: list[tuple[SpanRow | None, list[SpanRow]]], entries: list[LedgerRow]
) -> list[_PlanItem]:
    """Ledger entries placed before the first plan item that starts after them."""
    out: list[_PlanItem] = []
    i = 0
    for item in plan:
        span, hidden = item
        start = span.start_ns if span is not None else hidden[0].start_ns
        while i < len(entries) and entries[i].ts_ns < start:
            out.append(entries[i])
            i += 1
        out.append(item)
    out.extend(entries[i:])
    return out


def skeleton(
    trace: TraceRows,
    *,
    depth: int | None = None,
    fold_after: int = FOLD_AFTER,
    head: int = HEAD,
    tail: int = TAIL,
    keep_errors: int = KEEP_ERRORS,
) -> Skeleton:
    """The skeleton of one trace. ``depth`` limits nesting (0 = roots only)."""
    roots, kids = _children(trace.spans)
    handoffs: dict[str, list[str]] = {}
    for link in trace.links:  # a handoff names the agent span it handed over to
        if link.reason == "handoff":
            handoffs.setdefault(link.span_id, []).append(link.to_span_id)
    b = _Builder(kids, depth, fold_after, head, tail, keep_errors, place(trace), handoffs)
    b.emit_level(roots, 0)
    seen = [s.end_ns or s.start_ns for s in trace.spans] + [e.ts_ns for e in trace.ledger]
    header = header_parts(trace.summary, max(seen, default=None))
    if trace.ledger:
        header.append((f"actions={len(trace.ledger)}", "ledger"))
    return Skeleton(trace.summary, header, b.lines)


def render_plain(sk: Skeleton) -> str:
    """The piped form: ``<id8> <indent><label>``, one line per span, no colour."""
    out = [" ".join(t for t, _ in sk.header)]
    blank = " " * SHORT_ID
    for line in sk.lines:
        sid = short_id(line.span_id) if line.span_id else blank
        out.append(f"{sid} {'  ' * line.depth}{' '.join(t for t, _ in line.parts)}")
    return "\n".join(out) + "\n"


def summary_json(s: TraceSummary) -> dict[str, Any]:
    """A trace summary as the documented JSON shape (docs/query.md)."""
    return {
        "trace_id": s.trace_id,
        "root_name": s.root_name,
        "root_span_id": s.root_span_id,
        "component": s.component,
        "start_ns": s.start_ns,
        "end_ns": s.end_ns,
        "duration_ns": None if s.end_ns is None else s.end_ns - s.start_ns,
        "span_count": s.span_count,
        "error_count": s.error_count,
        "unfinished_count": s.unfinished_count,
        "status": s.status,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cache_read_tokens": s.cache_read_tokens,
        "cache_write_tokens": s.cache_write_tokens,
        "cost_usd": s.cost,
        "conversation_id": s.conversation_id,
        "pinned": s.pinned,
    }


def skeleton_json(sk: Skeleton) -> dict[str, Any]:
    """``{"trace": summary, "lines": [{"span", "depth", "status", "text", "folded", "ledger"}]}``.

    ``ledger`` is the entry id on a governed-action line, else None.
    """
    return {
        "trace": summary_json(sk.summary),
        "lines": [
            {
                "span": line.span_id,
                "depth": line.depth,
                "status": line.status,
                "text": " ".join(t for t, _ in line.parts),
                "folded": line.folded,
                "ledger": line.ledger_id,
            }
            for line in sk.lines
        ],
    }
