"""One span in full, never more body than asked for."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orca.query import body_slices, render_search, render_span, render_traces, span_detail_json
from orca.store import SearchHit, SpanRow


def test_span_detail_text_and_json(tb: Any) -> None:
    """Attributes, links both ways, logs and body slices, with what was left out."""
    t = tb("detail")
    turn = t.span("turn")
    req = t.span(
        "provider.request",
        turn,
        attrs={"gen_ai.request.model": "m"},
        request_body="sha-req",
        response_body="sha-resp",
        req_bytes=10_000,
        resp_bytes=20,
    )
    tool = t.span("tool-call", turn, start_ms=5, attrs={"gen_ai.tool.call.id": "c1"})
    t.link(tool, req, "answers")
    t.log(req, "retrying", level="warn")
    rows = t.rows()
    bodies = {"sha-req": b"x" * 10_000, "sha-resp": b'{"ok": true}' + b" " * 8}
    slices = body_slices(req, bodies, "both", 1000)
    assert [s.left_out for s in slices] == [10_000 - 980, 0]
    assert sum(len(s.text) for s in slices) == 1000
    text = render_span(req, rows.logs, rows.links, slices)
    assert f"← {tool.span_id}" in text and "answers" in text
    assert "warn  retrying" in text
    assert "9020 more bytes left out" in text
    doc = span_detail_json(req, rows.logs, rows.links, slices)
    assert doc["links"] == [
        {
            "direction": "in",
            "trace_id": t.trace_id,
            "span_id": tool.span_id,
            "reason": "answers",
            "attrs": {},
        }
    ]
    assert doc["bodies"][0]["left_out"] == 9020


def test_missing_body_is_said(tb: Any) -> None:
    """A body pruned from the store shows as 'not in the store (pruned)', not as empty."""
    t = tb("gone")
    span = t.span("step", request_body="pruned-sha", req_bytes=123)
    [slice_] = body_slices(span, {}, "request")
    assert slice_.missing
    assert "not in the store (pruned)" in render_span(span, [], [], [slice_])


@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 9000))
def test_never_more_than_max_bytes(a: int, b: int, cap: int) -> None:
    """The slices together never exceed the cap, and nothing fitting is cut."""
    span = SpanRow("t" * 32, "s" * 16, None, "step", "c", 0, 1, "ok", {}, "ra", "rb", a, b)
    slices = body_slices(span, {"ra": b"a" * a, "rb": b"b" * b}, "both", cap)
    assert sum(len(s.text) for s in slices) <= cap
    assert all(len(s.text) + s.left_out == s.total for s in slices)
    if a + b <= cap:
        assert all(s.left_out == 0 for s in slices)


def test_listings(tb: Any) -> None:
    """The trace and search listings show ids, conversation and the hit; no hits says so."""
    t = tb("list")
    t.span("turn", attrs={"gen_ai.conversation.id": "conv-9"})
    text = render_traces([t.rows().summary])
    assert t.trace_id[:8] in text and "conv-9" in text
    hit = SearchHit(
        t.trace_id, t.spans[0].span_id, t.spans[0].start_ns, "bodies", "…the [refund] policy…"
    )
    assert "bodies" in render_search([hit]) and "[refund]" in render_search([hit])
    assert render_search([]) == "(no matches)\n"
