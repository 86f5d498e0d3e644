"""Whole views over a store, one call each: what ``orca span|diff|check --json`` print.

The projections in this room are pure; these functions add the one thing
every shell also needs — fetching the rows for an id a reader typed — so the
CLI, the HTTP server and the MCP tools return the *same* document for the
same question instead of each re-assembling it. They read through the
:class:`~orca.store.TraceReader` protocol only.
"""

from dataclasses import dataclass
from typing import Any, Final, Literal

from orca.query._cache import (
    BreakpointVerdict,
    breakpoints_json,
    compare_breakpoints,
    render_breakpoints,
)
from orca.query._checkconfig import CheckConfig
from orca.query._checkrender import checks_json, render_checks
from orca.query._detail import (
    DEFAULT_MAX_BYTES,
    BodySlice,
    Which,
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
    render_body_diff,
)
from orca.query._format import fmt_duration
from orca.query._registry import CHECKS, CheckResult, run_checks
from orca.query._resolve import QueryError, UnknownIdError, resolve
from orca.store import LinkRow, LogRow, SpanRow, TraceReader, TraceRows, TraceSummary

BASELINE_WINDOW: Final = "7d"  # the slow-span and cost-spike baselines when no window is asked
BASELINE_TRACES: Final = 1000  # cost-spike compares a trace with at most this many recent peers


def get_span(reader: TraceReader, ref: str) -> SpanRow:
    """The span a reader means by ``ref`` (full id or unique prefix)."""
    span_id = resolve(reader, ref, "span")
    span = reader.get_span(span_id)
    if span is None:
        raise UnknownIdError(f"span {span_id} vanished (pruned?)")
    return span


def get_trace(reader: TraceReader, ref: str) -> TraceRows:
    """The trace a reader means by ``ref`` (full id, unique prefix or ``last``)."""
    trace_id = resolve(reader, ref, "trace")
    rows = reader.get_trace(trace_id)
    if rows is None:
        raise UnknownIdError(f"trace {trace_id} vanished (pruned?)")
    return rows


def _head(reader: TraceReader, sha: str, max_bytes: int) -> bytes | None:
    """The first ``max_bytes`` of a body: a blob streams only that much from disk."""
    stream = reader.open_body(sha)
    if stream is None:
        return None
    with stream:
        return stream.read(max_bytes)


@dataclass(frozen=True, slots=True)
class SpanDetail:
    """One span with what ``orca span`` shows beside it: logs, links, body slices."""

    span: SpanRow
    logs: list[LogRow]
    links: list[LinkRow]
    slices: list[BodySlice]

    def to_json(self) -> dict[str, Any]:
        """The documented ``orca span --json`` shape."""
        return span_detail_json(self.span, self.logs, self.links, self.slices)

    def render(self) -> str:
        return render_span(self.span, self.logs, self.links, self.slices)


def span_view(
    reader: TraceReader,
    ref: str,
    *,
    which: Which | Literal["none"] = "both",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SpanDetail:
    """The span ``ref`` names, its links and logs, and at most ``max_bytes`` of its bodies."""
    row = get_span(reader, ref)
    slices = []
    if which != "none":
        shas = [s for s in (row.request_body, row.response_body) if s]
        bodies = {sha: _head(reader, sha, max_bytes) for sha in shas}
        slices = body_slices(row, bodies, which, max_bytes)
    return SpanDetail(row, reader.span_logs(row.span_id), reader.span_links(row.span_id), slices)


@dataclass(frozen=True, slots=True)
class SpanDiff:
    """Two spans and how one body of theirs (and their attributes) differ.

    ``breakpoints``: for request bodies, whether B still starts with each cached
    prefix of A (None when that cannot be decided from the bodies).
    """

    a: SpanRow
    b: SpanRow
    which: Literal["request", "response"]
    body: BodyDiff
    attrs: list[AttrChange]
    breakpoints: list[BreakpointVerdict] | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented ``orca diff --json`` shape."""
        doc = {
            "a": self.a.span_id,
            "b": self.b.span_id,
            "body": self.which,
            f"{self.which}_body": body_diff_json(self.body),
            "attrs": [{"key": c.key, "a": c.a, "b": c.b} for c in self.attrs],
            "duration_ns": {"a": self.a.duration_ns, "b": self.b.duration_ns},
        }
        if self.breakpoints is not None:
            doc["cache_breakpoints"] = breakpoints_json(self.breakpoints)
        return doc

    def render(self) -> str:
        """``orca diff``'s text: both spans, the body diff, breakpoints, changed attributes."""
        a, b = self.a, self.b
        out = [
            f"A {a.span_id} {a.name} {fmt_duration(a.duration_ns)} [{a.status}]",
            f"B {b.span_id} {b.name} {fmt_duration(b.duration_ns)} [{b.status}]",
            *render_body_diff(self.body, f"{self.which} body"),
            *(render_breakpoints(self.breakpoints) if self.breakpoints is not None else ()),
        ]
        if self.attrs:
            out.append(f"attributes: {len(self.attrs)} changed")
            out.extend(f"  {c.key}: {c.a!r} → {c.b!r}" for c in self.attrs)
        else:
            out.append("attributes: identical")
        return "\n".join(out) + "\n"


def diff_view(
    reader: TraceReader, ref_a: str, ref_b: str, *, which: Literal["request", "response"]
) -> SpanDiff:
    """What changed between two spans: one body (bytes and meaning) and the attributes."""
    a, b = get_span(reader, ref_a), get_span(reader, ref_b)
    sha_a = a.request_body if which == "request" else a.response_body
    sha_b = b.request_body if which == "request" else b.response_body
    body_a = reader.get_body(sha_a) if sha_a else None
    body_b = reader.get_body(sha_b) if sha_b else None
    verdicts = compare_breakpoints(a, body_a, b, body_b) if which == "request" else None
    return SpanDiff(
        a, b, which, diff_bodies(body_a, body_b), diff_attrs(a.attrs, b.attrs), verdicts
    )


def check_names(only: str | None) -> list[str] | None:
    """``"a,b"`` → the named checks, or a clear error naming the unknown one."""
    if only is None:
        return None
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in CHECKS] or ([] if names else [only])
    if unknown:
        raise QueryError(f"no such check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    return names


def _p95(
    reader: TraceReader, names: set[str], since_ns: int | None, min_samples: int
) -> dict[str, int]:
    """p95 duration per span name over the window: the slow-span baseline, grouped in SQL."""
    return {
        g.key: g.p95_ns
        for g in reader.span_groups(group_by="name", since_ns=since_ns)
        if g.key in names and g.timed >= min_samples and g.p95_ns is not None
    }


@dataclass(frozen=True, slots=True)
class CheckRun:
    """The bug catalog's verdicts over some traces."""

    traces: list[TraceRows]
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """The documented ``orca check --json`` shape."""
        doc = checks_json(self.results, self.traces)
        doc["traces"] = [t.summary.trace_id for t in self.traces]
        return doc

    def render(self) -> str:
        """Findings root cause first, then the passes (``orca check``'s text)."""
        return render_checks(self.results, self.traces)


def checks_view(
    reader: TraceReader,
    traces: list[TraceRows],
    *,
    baseline_since_ns: int | None,
    only: list[str] | None = None,
    config: CheckConfig | None = None,
    peers: bool = False,
) -> CheckRun:
    """Run the checks over ``traces`` with the store's baselines since ``baseline_since_ns``.

    ``peers``: also read the recent traces cost-spike compares one trace with
    (``orca check ID``; with ``--all`` the checked traces are their own peers).
    """
    cfg = config if config is not None else CheckConfig()
    names_seen = {s.name for t in traces for s in t.spans}
    p95 = _p95(reader, names_seen, baseline_since_ns, cfg.slow_min_samples)
    baseline: list[TraceSummary] | None = None
    if peers and (only is None or "cost-spike" in only):
        baseline = reader.list_traces(limit=BASELINE_TRACES, since_ns=baseline_since_ns)
    results = run_checks(
        traces, body=reader.get_body, p95=p95, only=only, config=cfg, baseline=baseline
    )
    return CheckRun(traces, results)


def recent_traces(
    reader: TraceReader, *, limit: int, since_ns: int | None = None
) -> list[TraceRows]:
    """The newest ``limit`` traces in full (what ``orca check --all`` checks)."""
    out = []
    for summary in reader.list_traces(limit=limit, since_ns=since_ns):
        rows = reader.get_trace(summary.trace_id)
        if rows is not None:
            out.append(rows)
    return out
