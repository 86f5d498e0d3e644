"""Copying one store into another (``orca migrate SRC DST``), resumably, then verifying.

The copy goes through the two protocols only — ``TraceReader`` on the source,
``TraceStore.apply`` on the destination — so it works between any engines.
Each trace is turned back into the records it came from (a span's open and
close, its logs, links and mirrored ledger entries; bodies as exact bytes)
and applied in batches under one source name, ``migrate:<source URL>``, whose
offset is the number of traces copied. Stop it anywhere (Ctrl-C, a crash, a
lost connection) and run it again: it resumes after the last committed batch
and re-applies nothing. At the end every copied trace's summary is read back
from the destination and compared with the source's.

Then what is not a trace (``_migrate_extras``): logs outside any trace,
quarantined lines, roll-ups of already pruned spans and writer processes.
Not copied: the source's offsets (they belong to its collector) and the link
from a span to its writer (a copied span's ``pid`` is None).
"""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from orca.store._batch import Batch, Item, LedgerItem
from orca.store._migrate_extras import Extras, copy_extras, log_record
from orca.store._protocol import TraceReader, TraceStore
from orca.store._rows import TraceRows, TraceSummary

BATCH_RECORDS: Final = 5000
SOURCE_PREFIX: Final = "migrate:"
# A record's offset is its trace's index times STRIDE plus its place in the trace: every
# record has its own identity (PostgreSQL keys logs and links by it), and the committed
# offset divided by STRIDE is the number of traces copied.
STRIDE: Final = 1 << 32

Progress = Callable[[int, int], None]  # (traces done, traces in all)


@dataclass(frozen=True, slots=True)
class MigrateResult:
    """What one ``migrate`` did and what the check found."""

    traces: int  # traces in the source
    copied: int  # traces copied by this run (the rest were copied by an earlier one)
    records: int  # records applied by this run
    mismatched: list[str] = field(default_factory=list)  # trace ids that read back differently
    extras: Extras = field(default_factory=Extras)  # loose logs, quarantine, roll-ups, writers

    @property
    def ok(self) -> bool:
        return not self.mismatched


def _records(rows: TraceRows, src: TraceReader) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in rows.spans:
        opened: dict[str, Any] = {
            "v": 1,
            "kind": "span-open",
            "ts": s.start_ns,
            "component": s.component,
            "trace": s.trace_id,
            "span": s.span_id,
            "name": s.name,
            "attrs": s.attrs,
        }
        if s.parent_id is not None:
            opened["parent"] = s.parent_id
        if s.synthetic:
            opened["synthetic"] = True  # a crash span: kept as the collector's, not a writer's
        _body(opened, src, s.request_body)
        out.append(opened)
        if s.end_ns is not None:
            closed: dict[str, Any] = {
                "v": 1,
                "kind": "span-close",
                "ts": s.end_ns,
                "component": s.component,
                "trace": s.trace_id,
                "span": s.span_id,
                "status": s.status,
            }
            _body(closed, src, s.response_body)
            out.append(closed)
    out.extend(log_record(log) for log in rows.logs)
    for link in rows.links:
        if link.trace_id != rows.summary.trace_id:
            continue  # an incoming link: copied with the trace it leaves from
        out.append(
            {
                "v": 1,
                "kind": "link",
                "ts": link.ts_ns,
                "trace": link.trace_id,
                "span": link.span_id,
                "to_trace": link.to_trace_id,
                "to_span": link.to_span_id,
                "reason": link.reason,
                "attrs": link.attrs,
            }
        )
    return out


def _body(rec: dict[str, Any], src: TraceReader, sha: str | None) -> None:
    data = src.get_body(sha) if sha is not None else None
    if data is not None:
        rec["body"] = base64.b64encode(data).decode()
        rec["body_enc"] = "base64"


def _same(a: TraceSummary, b: TraceSummary | None) -> bool:
    if b is None:
        return False
    return (a.span_count, a.error_count, a.unfinished_count, a.status, a.input_tokens) == (
        b.span_count,
        b.error_count,
        b.unfinished_count,
        b.status,
        b.input_tokens,
    )


def migrate(
    src: TraceStore,
    dst: TraceStore,
    *,
    batch_records: int = BATCH_RECORDS,
    progress: Progress | None = None,
) -> MigrateResult:
    """Copy every trace of ``src`` into ``dst`` (resuming a stopped run), then verify."""
    report = progress or (lambda done, total: None)
    source = SOURCE_PREFIX + src.url
    traces = list(reversed(src.list_traces(limit=None)))  # oldest first: a stable order
    start = dst.offsets().get(source, 0) // STRIDE
    report(start, len(traces))
    batch, applied = Batch(), 0
    for i in range(start, len(traces)):
        rows = src.get_trace(traces[i].trace_id)
        if rows is not None:
            records = _records(rows, src)
            batch.items.extend(Item(r, source, i * STRIDE + j) for j, r in enumerate(records))
            batch.ledger.extend(
                LedgerItem(e, source, i * STRIDE + len(records) + j)
                for j, e in enumerate(rows.ledger)
            )
        batch.offsets[source] = (i + 1) * STRIDE
        if len(batch) >= batch_records or i + 1 == len(traces):
            applied += dst.apply(batch).applied
            batch = Batch()
            report(i + 1, len(traces))
    for summary in traces:
        if summary.pinned:
            dst.pin(summary.trace_id)
    mismatched = []
    for summary in traces:
        back = dst.get_trace(summary.trace_id)
        if not _same(summary, back.summary if back else None):
            mismatched.append(summary.trace_id)
    extras = copy_extras(src, dst, source, batch_records)
    return MigrateResult(len(traces), len(traces) - start, applied, mismatched, extras)
