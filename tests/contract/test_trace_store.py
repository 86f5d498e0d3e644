"""The read contract every store engine passes (SQLite and PostgreSQL; see conftest)."""

from typing import Any

import pytest

from orca.errors import UsageError
from orca.store import (
    CRASH_SPAN_NAME,
    Batch,
    LedgerItem,
    LedgerRow,
    TraceReader,
    items_from,
)
from orca.testing import capture_records


def _turn(conv: str = "c1", fail: bool = False) -> tuple[list[dict[str, Any]], dict[str, str]]:
    with capture_records() as (rec, records):
        log = rec.logger("billing")
        turn = log.span("turn", attrs={"gen_ai.conversation.id": conv})
        turn.log.info("looking up the refund policy")
        step = turn.child(
            "step", attrs={"gen_ai.request.model": "m-1"}, body="PROMPT about refunds"
        )
        step.log.warn("slow provider", attrs={"provider": "acme"})
        step.end(
            attrs={
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 20,
                "gen_ai.usage.cache_read.input_tokens": 5,
                "gen_ai.usage.cache_write.input_tokens": 7,
                "orca.cost.usd": 0.25,
            },
            body="RESPONSE text",
        )
        tool = turn.child("tool-call", attrs={"gen_ai.tool.name": "refund_lookup"})
        tool.add_link(step, reason="caused-by")
        tool.end(status="error" if fail else None)
        turn.end()
    ids = {"trace": turn.trace_id, "turn": turn.span_id, "step": step.span_id, "tool": tool.span_id}
    return [dict(r) for r in records], ids


def test_store_satisfies_the_protocol(store: Any) -> None:
    """Every backend is a TraceReader (structural check of the method set)."""
    reader: TraceReader = store
    for name in ("list_traces", "get_trace", "get_span", "span_logs", "span_links", "get_body"):
        assert callable(getattr(reader, name))


def test_trace_round_trip(store: Any) -> None:
    """A recorded turn comes back as one trace: spans merged, totals summed, bodies kept."""
    records, ids = _turn()
    store.apply(items_from(records, "s1"))
    [summary] = store.list_traces()
    assert summary.trace_id == ids["trace"]
    assert (summary.root_name, summary.root_span_id, summary.span_count) == ("turn", ids["turn"], 3)
    assert summary.status == "ok" and summary.conversation_id == "c1"
    assert (summary.input_tokens, summary.output_tokens) == (100, 20)
    assert (summary.cache_read_tokens, summary.cache_write_tokens) == (5, 7)
    assert summary.cost == pytest.approx(0.25)
    rows = store.get_trace(ids["trace"])
    assert [s.name for s in rows.spans] == ["turn", "step", "tool-call"]
    step = store.get_span(ids["step"])
    assert step.status == "ok" and step.end_ns is not None and step.parent_id == ids["turn"]
    assert step.attrs["gen_ai.request.model"] == "m-1"
    assert step.attrs["gen_ai.usage.input_tokens"] == 100
    assert store.get_body(step.request_body) == b"PROMPT about refunds"
    assert store.get_body(step.response_body) == b"RESPONSE text"
    assert step.request_body_bytes == len(b"PROMPT about refunds")
    assert [log.msg for log in store.span_logs(ids["step"])] == ["slow provider"]
    assert [log.msg for log in rows.logs] == ["looking up the refund policy", "slow provider"]
    [link] = store.span_links(ids["step"])
    assert (link.span_id, link.to_span_id, link.reason) == (ids["tool"], ids["step"], "caused-by")
    assert store.get_trace("f" * 32) is None and store.get_span("f" * 16) is None
    assert store.get_body("0" * 64) is None


def test_filters_and_order(store: Any) -> None:
    """list_traces is newest first and filters by status, conversation and start time."""
    a, ida = _turn("c1")
    b, idb = _turn("c2", fail=True)
    store.apply(items_from(a + b, "s1"))
    assert [t.trace_id for t in store.list_traces()] == [idb["trace"], ida["trace"]]
    assert [t.trace_id for t in store.list_traces(status="error")] == [idb["trace"]]
    assert [t.trace_id for t in store.list_traces(conversation="c1")] == [ida["trace"]]
    assert len(store.list_traces(limit=1)) == 1
    start_b = store.get_trace(idb["trace"]).summary.start_ns
    assert [t.trace_id for t in store.list_traces(since_ns=start_b)] == [idb["trace"]]


def test_resolve_and_find(store: Any) -> None:
    """Prefixes resolve to full ids (at most 2); find_spans filters by name."""
    records, ids = _turn()
    store.apply(items_from(records, "s1"))
    assert store.resolve_id(ids["trace"][:8], "trace") == [ids["trace"]]
    assert store.resolve_id(ids["step"][:6], "span") == [ids["step"]]
    assert store.resolve_id("zz", "span") == []
    assert len(store.resolve_id("", "span")) == 0
    assert [s.span_id for s in store.find_spans(name="step")] == [ids["step"]]
    assert len(list(store.find_spans(limit=2))) == 2


def test_search_everywhere(store: Any) -> None:
    """Full-text search finds log messages, attribute values and text bodies."""
    records, ids = _turn()
    store.apply(items_from(records, "s1"))
    store.catch_up_search()  # the collector's chore: readers never write
    [log] = store.search("refund policy", where="logs")
    assert log.span_id == ids["turn"] and "[refund]" in log.snippet
    [attr] = store.search("refund_lookup", where="attrs")
    assert attr.span_id == ids["tool"]
    [body] = store.search("PROMPT", where="bodies")
    assert body.span_id == ids["step"]
    assert {h.where for h in store.search("refunds")} == {"bodies"}
    assert store.search('"unbalanced') == []


def test_span_stats(store: Any) -> None:
    """The stats scan yields one tuple per span with the asked key."""
    records, _ = _turn()
    store.apply(items_from(records, "s1"))
    rows = sorted(store.span_stats(group_by="model"), key=lambda r: r[0] is None)
    assert [r[0] for r in rows] == ["m-1", None, None]
    model = rows[0]
    assert model[2:] == ("ok", 100, 20, 5, 0.25) and model[1] > 0
    assert {r[0] for r in store.span_stats(group_by="tool")} == {"refund_lookup", None}
    with pytest.raises(UsageError, match="group_by"):
        store.span_stats(group_by="colour")


def test_crash_span_is_in_the_trace(store: Any) -> None:
    """A crash span belongs to its trace's root and turns the trace 'crashed'."""
    with capture_records() as (rec, records):
        turn = rec.logger("a").span("turn")
        turn.child("step")
    store.apply(items_from([dict(r) for r in records], "123-456-000000.ndjson"))
    [crash] = store.attribute_crash("123-456", detected_ns=1)
    assert crash.name == CRASH_SPAN_NAME and crash.parent_id == turn.span_id
    assert crash.status == "error" and crash.synthetic
    [summary] = store.list_traces()
    assert summary.status == "crashed" and summary.unfinished_count == 2


def test_ledger_mirror_joins_the_trace(store: Any) -> None:
    """Ledger entries applied with a batch come back with their trace, in ledger order, once."""
    records, ids = _turn()
    store.apply(items_from(records, "seg"))
    rows = [
        LedgerRow(
            id=i,
            ts_ns=records[0]["ts"] + i,
            kind=kind,
            run="r1",
            trace_id=ids["trace"],
            span_id=ids["step"] if i == 2 else None,
            actor="planner",
            prev="0" * 64,
            hash=f"{i:064x}",
            payload_hash="1" * 64,
            args={"i": i},
        )
        for i, kind in ((1, "run.started"), (2, "envelope.accepted"))
    ]
    batch = Batch(
        ledger=[LedgerItem(r, "ledger/ledger.ndjson", r.id * 10) for r in rows],
        offsets={"ledger/ledger.ndjson": 100},
    )
    assert store.apply(batch).ledger == 2
    assert store.apply(batch).ledger == 0
    trace = store.get_trace(ids["trace"])
    assert trace.ledger == rows
    assert store.ledger_entries(run="r1") == rows
    assert store.ledger_entries(trace=ids["trace"], limit=1) == rows[:1]
