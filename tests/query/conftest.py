"""Hand-built trace rows: the query layer is tested without a store."""

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orca.store import (
    CRASH_SPAN_NAME,
    LedgerRow,
    LinkRow,
    LogRow,
    SpanRow,
    TraceRows,
    TraceSummary,
)

T0 = 1_714_564_800_000_000_000  # 2024-05-01T12:00:00Z
MS = 1_000_000


def hexid(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


class TraceBuilder:
    """Spans added in start order; ``rows()`` computes the summary like a store would."""

    def __init__(self, seed: str = "t1", component: str = "support") -> None:
        self.trace_id = hexid(seed, 32)
        self.seed = seed
        self.component = component
        self.spans: list[SpanRow] = []
        self.logs: list[LogRow] = []
        self.links: list[LinkRow] = []
        self.ledger: list[LedgerRow] = []

    def span(
        self,
        name: str,
        parent: SpanRow | None = None,
        *,
        start_ms: float = 0,
        dur_ms: float | None = 10,
        status: str = "ok",
        attrs: dict[str, Any] | None = None,
        resp_bytes: int = 0,
        req_bytes: int = 0,
        synthetic: bool = False,
        request_body: str | None = None,
        response_body: str | None = None,
    ) -> SpanRow:
        sid = hexid(f"{self.seed}/{len(self.spans)}", 16)
        start = T0 + int(start_ms * MS)
        row = SpanRow(
            trace_id=self.trace_id,
            span_id=sid,
            parent_id=None if parent is None else parent.span_id,
            name=name,
            component=self.component,
            start_ns=start,
            end_ns=None if dur_ms is None else start + int(dur_ms * MS),
            status="unfinished" if dur_ms is None else status,  # type: ignore[arg-type]
            attrs=dict(attrs or {}),
            request_body=request_body,
            response_body=response_body,
            request_body_bytes=req_bytes,
            response_body_bytes=resp_bytes,
            pid=4242,
            synthetic=synthetic,
        )
        self.spans.append(row)
        return row

    def crash(self, after: SpanRow, *, start_ms: float) -> SpanRow:
        msg = f"process 4242 exited unexpectedly after span {after.name} ({after.span_id})"
        root = self.spans[0]
        return self.span(
            CRASH_SPAN_NAME,
            root,
            start_ms=start_ms,
            dur_ms=0,
            status="error",
            synthetic=True,
            attrs={"exception.message": msg, "orca.crash.pid": 4242},
        )

    def log(self, span: SpanRow, msg: str, level: str = "info", at_ms: float = 0) -> None:
        self.logs.append(
            LogRow(T0 + int(at_ms * MS), level, msg, self.component, self.trace_id, span.span_id)
        )

    def link(self, a: SpanRow, b: SpanRow, reason: str) -> None:
        self.links.append(LinkRow(a.start_ns, a.trace_id, a.span_id, b.trace_id, b.span_id, reason))

    def action(
        self,
        kind: str,
        span: SpanRow | str | None = None,
        *,
        at_ms: float,
        actor: str | None = None,
        erased: bool = False,
    ) -> LedgerRow:
        """A governed action (ledger entry) at ``at_ms``; ``span`` may name a foreign span id."""
        sid = span.span_id if isinstance(span, SpanRow) else span
        row = LedgerRow(
            id=len(self.ledger) + 1,
            ts_ns=T0 + int(at_ms * MS),
            kind=kind,
            run="run-1",
            trace_id=self.trace_id,
            span_id=sid,
            actor=actor,
            erased=erased,
        )
        self.ledger.append(row)
        return row

    def rows(self) -> TraceRows:
        spans = sorted(self.spans, key=lambda s: (s.start_ns, s.span_id))
        root = next((s for s in spans if s.parent_id is None), spans[0])
        ends = [s.end_ns for s in spans if s.end_ns is not None]
        crashed = any(s.synthetic for s in spans)
        errors = sum(1 for s in spans if s.status == "error")
        unfinished = sum(1 for s in spans if s.status == "unfinished")
        status = (
            "crashed" if crashed else "error" if errors else "unfinished" if unfinished else "ok"
        )

        def total(key: str) -> int:
            return sum(int(s.attrs.get(key, 0)) for s in spans if s.name == "provider.request")

        summary = TraceSummary(
            trace_id=self.trace_id,
            root_name=root.name,
            root_span_id=root.span_id,
            component=self.component,
            start_ns=root.start_ns,
            end_ns=max(ends) if root.end_ns is not None and ends else None,
            span_count=len(spans),
            error_count=errors,
            unfinished_count=unfinished,
            status=status,  # type: ignore[arg-type]
            input_tokens=total("gen_ai.usage.input_tokens"),
            output_tokens=total("gen_ai.usage.output_tokens"),
            cache_read_tokens=total("gen_ai.usage.cache_read.input_tokens"),
            cost=sum(
                float(s.attrs.get("orca.cost.usd", 0))
                for s in spans
                if s.name == "provider.request"
            ),
            conversation_id=str(root.attrs.get("gen_ai.conversation.id") or "") or None,
        )
        return TraceRows(summary, spans, self.logs, self.links, self.ledger)


@pytest.fixture
def tb() -> type[TraceBuilder]:
    """The builder class: ``tb("seed")`` starts a new hand-built trace."""
    return TraceBuilder


class Recorded:
    """Traces recorded for real (journal → collector → SQLite store) and read back."""

    def __init__(self, store: Any, traces: list[TraceRows]) -> None:
        self.store = store
        self.traces = traces

    def body(self, sha: str) -> bytes | None:
        return self.store.get_body(sha)  # type: ignore[no-any-return]


class VirtualClock:
    """Nanoseconds that advance 1 ms per reading: deterministic span timestamps."""

    def __init__(self, start: int = T0, step: int = MS) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


@pytest.fixture
def record(home: Any) -> Iterator[Callable[[Callable[[Any], None]], Recorded]]:
    """``record(fn)``: run ``fn(logger)`` under a real recorder, drain, read its traces back.

    Each call returns only the traces that call recorded (the home is shared).
    """
    from orca.capture import Recorder
    from orca.collector import Collector
    from orca.store import SQLiteStore

    stores: list[Any] = []
    seen: set[str] = set()

    def run(fn: Callable[[Any], None]) -> Recorded:
        rec = Recorder.open(home, heartbeat_s=None, clock=VirtualClock())
        try:
            fn(rec.logger("agent"))
        finally:
            rec.close()
        with Collector(home) as collector:
            collector.drain()
        store = SQLiteStore.open(home)
        stores.append(store)
        fresh = [s.trace_id for s in store.list_traces(limit=None) if s.trace_id not in seen]
        seen.update(fresh)
        traces = [store.get_trace(t) for t in reversed(fresh)]
        return Recorded(store, [t for t in traces if t is not None])

    yield run
    for store in stores:
        store.close()
