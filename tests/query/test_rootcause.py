"""Root cause first: the first finding names the cause, and the step's error is folded under it."""

from typing import Any

import openai
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.integrations.openai import instrument
from orca.query import checks_json, rank_findings, render_checks, run_checks
from orca.testing import FakeProvider, Reply


def _failing_turn(script: list[Reply], retries: int) -> Any:
    """A turn whose step gives up on the provider's error (the agent lets it propagate)."""

    def agent(log: Any) -> None:
        with FakeProvider(script) as fp:
            client = openai.OpenAI(
                api_key="sk-test-000000000000", base_url=fp.base_url, max_retries=retries
            )
            try:
                with log.span("turn", {"gen_ai.conversation.id": "c1"}) as turn:
                    with turn.child("step") as step:
                        instrument(client, parent=step)
                        client.chat.completions.create(
                            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
                        )
            except openai.APIError:
                pass

    return agent


def _report(rec: Any) -> tuple[str, dict[str, Any]]:
    results = run_checks(rec.traces, body=rec.body)
    return render_checks(results, rec.traces), checks_json(results, rec.traces)


def _first_block(text: str) -> str:
    lines = text.splitlines()
    end = next((i for i in range(1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[:end])


def test_rate_limit_storm_is_the_first_line(record: Any) -> None:
    """Three 429s, the step and the turn fail: rate-limited first, explaining all five errors."""
    text, doc = _report(record(_failing_turn([Reply.rate_limited()] * 3, retries=2)))
    first = _first_block(text)
    assert first.startswith("✖  rate-limited")
    assert "explains 5 errors" in first.splitlines()[0]  # 3 requests, the step, the turn
    assert "↳ error-span: step" in first and len(first.encode()) < 1024
    assert "next  orca span " in first
    top = doc["findings"][0]
    assert top["check"] == "rate-limited" and top["caused_by"] is None
    errors = [f for f in doc["findings"] if f["check"] == "error-span"]
    assert len(errors) == 5 and all(f["caused_by"] == top["id"] for f in errors)
    assert sorted(top["explains"]) == sorted(f["id"] for f in errors)
    assert all(f["next"] for f in doc["findings"])


def test_context_overflow_is_the_first_line(record: Any) -> None:
    """A 400 for context length: the first line is context-overflow, not a generic error."""
    text, doc = _report(record(_failing_turn([Reply.context_overflow()], retries=0)))
    first = _first_block(text)
    assert first.startswith("✖  context-overflow") and "explains 3 errors" in first
    assert len(first.encode()) < 1024
    assert "✖  error-span" not in text  # every error is explained: none listed on its own
    overflow = doc["findings"][0]
    assert overflow["check"] == "context-overflow"
    assert {f["caused_by"] for f in doc["findings"][1:]} == {overflow["id"]}


def test_unrelated_error_is_not_folded(tb: Any) -> None:
    """A failed tool beside a truncated answer is listed on its own, after the cause."""
    t = tb("mixed")
    turn = t.span("turn")
    step = t.span("step", turn, start_ms=1)
    t.span(
        "provider.request",
        step,
        start_ms=2,
        attrs={"gen_ai.response.finish_reasons": "length"},
    )
    t.span("tool-call", turn, start_ms=20, status="error", attrs={"exception.message": "boom"})
    trace = t.rows()
    ranked = rank_findings(run_checks([trace]), [trace])
    assert [r.check for r in ranked] == ["truncated-output", "error-span"]
    assert ranked[1].caused_by is None


def test_crash_explains_the_unfinished_spans(tb: Any) -> None:
    """The process died: its open spans are folded under the crash, not listed before it."""
    t = tb("crash")
    turn = t.span("turn", dur_ms=None)
    step = t.span("step", turn, start_ms=1, dur_ms=None)
    t.crash(step, start_ms=50)
    trace = t.rows()
    ranked = rank_findings(run_checks([trace]), [trace])
    assert ranked[0].check == "crashed"
    assert [r.caused_by for r in ranked[1:]] == [ranked[0].id] * 2


def test_descendant_cause_orders_before_an_ancestor_finding(tb: Any) -> None:
    """A cost spike on the turn comes after the tool loop inside it (the effect travels up)."""
    traces = []
    for i in range(21):
        t = tb(f"c{i}")
        turn = t.span("turn", attrs={})
        spike = i == 20
        t.span("provider.request", turn, attrs={"orca.cost.usd": 1.0 if spike else 0.01})
        if spike:
            for k in range(3):
                t.span(
                    "tool-call",
                    turn,
                    start_ms=5 + k,
                    attrs={"gen_ai.tool.name": "x", "gen_ai.tool.call.arguments": "{}"},
                )
        traces.append(t.rows())
    ranked = rank_findings(run_checks(traces), traces)
    assert [r.check for r in ranked] == ["tool-loop", "cost-spike"]


_SPAN = st.tuples(
    st.integers(0, 30),  # parent: an earlier span (mod its index)
    st.sampled_from(["ok", "error"]),
    st.sampled_from(
        [{}, {"http.response.status_code": 429}, {"gen_ai.response.finish_reasons": "length"}]
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_SPAN, min_size=1, max_size=25))
def test_ranking_is_a_permutation_with_causes_first(tb: Any, spans: list[Any]) -> None:
    """Every finding appears once; a folded one comes right after a top-level cause before it."""
    t = tb("random")
    rows = [t.span("turn", start_ms=0, dur_ms=100)]
    for i, (parent, status, attrs) in enumerate(spans):
        name = "provider.request" if attrs else "step"
        rows.append(
            t.span(name, rows[parent % len(rows)], start_ms=i + 1, status=status, attrs=attrs)
        )
    trace = t.rows()
    results = run_checks([trace])
    ranked = rank_findings(results, [trace])
    assert sorted(r.id for r in ranked) == sorted(
        f"{r.name}:{n}" for r in results for n in range(1, len(r.findings) + 1)
    )
    seen: dict[str, int] = {}
    for pos, r in enumerate(ranked):
        seen[r.id] = pos
        if r.caused_by is not None:
            assert r.caused_by in seen and ranked[seen[r.caused_by]].caused_by is None
            assert r.id in ranked[seen[r.caused_by]].explains
            assert r.check in ("error-span", "unfinished-span", "slow-span")


def test_text_is_bounded_per_check(tb: Any) -> None:
    """Seven failed tools: five listed with proof and next step, then one line for the rest."""
    t = tb("many")
    turn = t.span("turn")
    for i in range(7):
        t.span("tool-call", turn, start_ms=i, status="error", attrs={"exception.message": "x"})
    trace = t.rows()
    text = render_checks(run_checks([trace], only=["error-span"]), [trace])
    assert text.count("✖  error-span") == 5 and text.count("next  orca span ") == 5
    assert "… 2 more error-span findings (all of them: --json)" in text
    assert len(checks_json(run_checks([trace]), [trace])["findings"]) == 7
