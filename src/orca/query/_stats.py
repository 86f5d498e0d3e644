"""Stats: many runs at a glance, and which tool definitions are pure overhead.

Two inputs, one result. A store groups in SQL and hands over one
:class:`~orca.store.SpanGroup` per key (``store.span_groups``: what ``orca
stats`` uses, since a million spans never leave the database);
:func:`group_stats` only orders them. :func:`stats` groups a stream of
per-span *facts* — ``(key, duration_ns, status, input_tokens, output_tokens,
cache_read_tokens, cost)`` — in Python, for callers that hold rows
(:func:`span_facts` makes the facts from :class:`SpanRow` values) and as the
reference the SQL grouping is tested against.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from orca._percentile import percentile
from orca._table import Column, text_table
from orca.query._format import as_float, as_int, clip, fmt_cost, fmt_count, fmt_duration
from orca.store import SpanGroup, SpanRow

GroupBy = Literal["name", "model", "component", "tool"]
# What `orca stats --by` can group spans on.
GROUP_BY: Final[tuple[GroupBy, ...]] = ("name", "model", "component", "tool")
TOOL_COLUMNS: Final = (
    Column("tool", 24),
    *(Column(t, w, right=True) for t, w in (("requests", 8), ("def", 6), ("carried", 8))),
    *(Column(t, w, right=True) for t, w in (("uses", 5), ("ok%", 5), ("chars/use", 9))),
    Column("", gap=2),  # the note on a tool never used
)
Fact = tuple[Any, int | None, str, int, int, int, float]


@dataclass(frozen=True, slots=True)
class StatRow:
    """One group of spans in ``orca stats``: how many, how often failing, how slow, how costly."""

    key: str  # the value grouped on (a span name, model, component or tool)
    count: int
    errors: int
    unfinished: int
    p50_ns: int | None
    p95_ns: int | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0


def _key(span: SpanRow, by: GroupBy) -> str | None:
    a = span.attrs
    if by == "name":
        return span.name
    if by == "component":
        return span.component
    if by == "model":
        value = a.get("gen_ai.response.model") or a.get("gen_ai.request.model")
        return None if value is None else str(value)
    value = a.get("gen_ai.tool.name") if span.name == "tool-call" else None
    return None if value is None else str(value)


def span_facts(spans: Iterable[SpanRow], by: GroupBy = "name") -> Iterable[Fact]:
    """Rows as facts, the shape :func:`stats` consumes."""
    for s in spans:
        a = s.attrs
        yield (
            _key(s, by),
            s.duration_ns,
            s.status,
            as_int(a.get("gen_ai.usage.input_tokens")),
            as_int(a.get("gen_ai.usage.output_tokens")),
            as_int(a.get("gen_ai.usage.cache_read.input_tokens")),
            as_float(a.get("orca.cost.usd")),
        )


@dataclass(slots=True)
class _Acc:
    """One key's running totals while :func:`stats` scans."""

    count: int = 0
    errors: int = 0
    unfinished: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost: float = 0.0
    durations: list[int] = field(default_factory=list)


def stats(facts: Iterable[Fact], *, skip_none: bool = True) -> list[StatRow]:
    """Per key: count, errors, p50/p95 duration, tokens and cost; busiest key first.

    Facts with no key (a model stat over a span with no model) are left out
    unless ``skip_none`` is False, then grouped under ``-``.
    """
    acc: dict[Any, _Acc] = {}
    for key, dur, status, tin, tout, tcache, cost in facts:
        if key is None:
            if skip_none:
                continue
            key = "-"
        a = acc.get(key)
        if a is None:
            a = acc[key] = _Acc()
        a.count += 1
        if status == "error":
            a.errors += 1
        elif status == "unfinished":
            a.unfinished += 1
        if dur is not None:
            a.durations.append(dur)
        a.input_tokens += tin
        a.output_tokens += tout
        a.cache_read_tokens += tcache
        a.cost += cost
    out: list[StatRow] = []
    for key, a in acc.items():
        d = a.durations
        d.sort()
        out.append(
            StatRow(
                key=str(key),
                count=a.count,
                errors=a.errors,
                unfinished=a.unfinished,
                p50_ns=percentile(d, 0.5),
                p95_ns=percentile(d, 0.95),
                input_tokens=a.input_tokens,
                output_tokens=a.output_tokens,
                cache_read_tokens=a.cache_read_tokens,
                cost=a.cost,
            )
        )
    out.sort(key=lambda r: (-r.count, r.key))
    return out


def group_stats(groups: Iterable[SpanGroup]) -> list[StatRow]:
    """Groups a store computed, as :class:`StatRow` values in :func:`stats`' order."""
    out = [
        StatRow(
            g.key,
            g.count,
            g.errors,
            g.unfinished,
            g.p50_ns,
            g.p95_ns,
            g.input_tokens,
            g.output_tokens,
            g.cache_read_tokens,
            g.cost,
        )
        for g in groups
    ]
    out.sort(key=lambda r: (-r.count, r.key))
    return out


def render_stats(rows: Sequence[StatRow], by: str) -> str:
    """The ``orca stats`` table, one line per group, for a person or a piped agent."""
    numbers = ("count", "err%", "p50", "p95", "in", "out", "cache")
    columns = [Column(by, 28), *(Column(c, 7, right=True) for c in numbers)]
    columns.append(Column("cost", 9, right=True))
    cells = [
        (
            clip(r.key, 28),
            str(r.count),
            f"{100 * r.error_rate:.1f}%",
            fmt_duration(r.p50_ns),
            fmt_duration(r.p95_ns),
            fmt_count(r.input_tokens),
            fmt_count(r.output_tokens),
            fmt_count(r.cache_read_tokens),
            fmt_cost(r.cost),
        )
        for r in rows
    ]
    # Grouped by a key, spans may exist that just do not carry it.
    empty = "(no spans in this window)" if by == "name" else f"(no spans with a {by})"
    return text_table(columns, cells, empty=empty)


def stats_json(rows: Sequence[StatRow], by: str) -> dict[str, Any]:
    """The documented ``orca stats --json`` shape (docs/query.md), shared by CLI, HTTP and MCP."""
    return {
        "by": by,
        "groups": [
            {
                "key": r.key,
                "count": r.count,
                "errors": r.errors,
                "unfinished": r.unfinished,
                "error_rate": round(r.error_rate, 6),
                "p50_ns": r.p50_ns,
                "p95_ns": r.p95_ns,
                "input_tokens": r.input_tokens,
                "output_tokens": r.output_tokens,
                "cache_read_tokens": r.cache_read_tokens,
                "cost_usd": r.cost,
            }
            for r in rows
        ],
    }


@dataclass(frozen=True, slots=True)
class ToolCost:
    """One tool definition's standing cost against its use."""

    tool: str
    requests: int  # prompt assemblies that carried its definition
    def_chars: int  # mean characters of the definition
    total_chars: int  # characters it added across those requests
    uses: int
    successes: int

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.uses if self.uses else None

    @property
    def chars_per_use(self) -> float | None:
        return self.total_chars / self.uses if self.uses else None


def tool_costs(assemblies: Iterable[SpanRow], tool_calls: Iterable[SpanRow]) -> list[ToolCost]:
    """Rank tool definitions by prompt bytes carried per use (unused ones first).

    A definition's standing cost comes from ``prompt.assembly`` segments of kind
    ``tool-def`` (the contributor names the tool); use and success from
    ``tool-call`` spans. A rarely used tool with a fat definition is pure overhead.
    """
    carried: dict[str, list[int]] = {}
    for span in assemblies:
        raw = span.attrs.get("orca.prompt.segments")
        if not isinstance(raw, str):
            continue
        try:
            segs = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        per_tool: dict[str, int] = {}
        for seg in segs if isinstance(segs, list) else []:
            if isinstance(seg, dict) and seg.get("kind") == "tool-def":
                name = str(seg.get("contributor") or "?")
                per_tool[name] = per_tool.get(name, 0) + as_int(seg.get("chars"))
        for name, chars in per_tool.items():
            carried.setdefault(name, []).append(chars)
    uses: dict[str, list[int]] = {}
    for span in tool_calls:
        tool = span.attrs.get("gen_ai.tool.name")
        if tool is None:
            continue
        ok = span.status == "ok" and span.attrs.get("orca.tool.is_error") is not True
        u = uses.setdefault(str(tool), [0, 0])
        u[0] += 1
        u[1] += int(ok)
    out = []
    for name in set(carried) | set(uses):
        sizes = carried.get(name, [])
        u = uses.get(name, [0, 0])
        total = sum(sizes)
        out.append(
            ToolCost(name, len(sizes), total // len(sizes) if sizes else 0, total, u[0], u[1])
        )
    out.sort(key=lambda t: (t.uses > 0, -(t.chars_per_use or t.total_chars), t.tool))
    return out


def render_tool_costs(rows: Sequence[ToolCost]) -> str:
    """The ``orca stats tools`` table; a definition never used is marked as pure overhead."""
    cells = [
        (
            clip(t.tool, 24),
            str(t.requests),
            fmt_count(t.def_chars),
            fmt_count(t.total_chars),
            str(t.uses),
            "-" if t.success_rate is None else f"{100 * t.success_rate:.0f}%",
            "∞" if t.chars_per_use is None else fmt_count(t.chars_per_use),
            "← never used: pure overhead" if t.uses == 0 and t.total_chars else "",
        )
        for t in rows
    ]
    empty = "(no prompt.assembly or tool-call spans in this window)"
    return text_table(TOOL_COLUMNS, cells, empty=empty)


def tool_costs_json(rows: Sequence[ToolCost]) -> dict[str, Any]:
    """The documented ``orca stats tools --json`` shape (docs/query.md), for CLI and HTTP."""
    return {
        "tools": [
            {
                "tool": t.tool,
                "requests": t.requests,
                "def_chars": t.def_chars,
                "total_chars": t.total_chars,
                "uses": t.uses,
                "successes": t.successes,
                "success_rate": t.success_rate,
                "chars_per_use": t.chars_per_use,
            }
            for t in rows
        ]
    }
