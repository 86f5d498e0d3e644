"""Governance as the orchestrator's hooks: decisions and budgets in the ledger, across restarts."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openai
import pytest
from click.testing import CliRunner
from tests.orchestrator.conftest import SEED, entries, kinds, task_env

import orca.governance
from orca.cli import cli
from orca.integrations.openai import instrument
from orca.orchestrator import (
    BudgetExceeded,
    Governance,
    Orchestrator,
    PolicyDenied,
    Task,
    TaskContext,
    VirtualClock,
)
from orca.testing import FakeProvider, journal_records

POLICY = """\
tool_allowlist: [search]
rules:
  - name: big-refunds
    priority: 10
    phase: pre_submit
    match: {recipient: billing, payload: [{path: $.amount, gt: 500}]}
    action: deny
    reason: needs-review
"""


def _open(
    home: Path, clock: VirtualClock, policy: str | None = POLICY
) -> tuple[Orchestrator, Governance]:
    if policy is not None:
        (home / "policy.yaml").write_text(policy)
    gov = Governance.open(home, watch=False)
    orch = Orchestrator.open(home, clock=clock, seed=SEED, policy=gov, budget=gov)
    gov.bind(orch)
    return orch, gov


def _payloads(home: Path, kind: str) -> list[dict[str, Any]]:
    return [e.result for e in entries(home) if e.kind == kind]


def test_a_denied_envelope_leaves_a_decision_entry_without_payload(
    home: Path, clock: VirtualClock
) -> None:
    """deny → PolicyDenied (both families); envelope.rejected and policy.decision entries."""
    orch, _ = _open(home, clock)
    with orch:
        run = orch.start_run("support")
        with pytest.raises(PolicyDenied) as info:
            orch.submit(task_env(run.id, payload={"amount": 900, "note": "secret-note-xyz"}))
        assert isinstance(info.value, orca.governance.PolicyDenied)
        assert info.value.code == "policy-denied"
        with pytest.raises(orca.governance.PolicyDenied):
            orch.submit(task_env(run.id, id="e-2", payload={"tool": "shell"}))
    assert kinds(home, run.id).count("policy.decision") == 2
    first, second = _payloads(home, "policy.decision")
    assert (first["rule"], first["action"], first["reasons"]) == (
        "big-refunds",
        "deny",
        ["needs-review"],
    )
    assert (second["rule"], second["reasons"]) == ("tool_allowlist", ["tool-not-allowed"])
    ledger = (home / "ledger" / "ledger.ndjson").read_bytes()
    assert b"secret-note-xyz" not in ledger  # a denied payload is never recorded


def test_pii_is_redacted_before_the_envelope_is_recorded(home: Path, clock: VirtualClock) -> None:
    """The agent gets, and the ledger keeps, the placeholder; policy.decision counts it."""
    orch, _ = _open(home, clock)
    seen: list[Any] = []
    with orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> str:
            seen.append(task.payload)
            return "ok"

        run = orch.start_run("support")
        orch.submit(task_env(run.id, payload={"note": "card 4111 1111 1111 1111", "amount": 5}))
        orch.run_until_idle(timeout=30)
    assert seen == [{"note": "card [CARD_1]", "amount": 5}]
    [decision] = _payloads(home, "policy.decision")
    assert decision["redactions"] == {"card": 1} and decision["action"] == "modify"
    assert b"4111 1111" not in (home / "ledger" / "ledger.ndjson").read_bytes()


def test_no_policy_in_a_closed_home_denies_everything(home: Path, clock: VirtualClock) -> None:
    """policy: closed and no file → no run starts and no envelope is accepted (no-policy)."""
    (home / "config.toml").write_text('policy = "closed"\n')
    orch, gov = _open(home, clock, policy=None)
    with orch:
        with pytest.raises(PolicyDenied, match="no-policy"):
            orch.start_run("support")
        gov.engine.mode = "open"  # let a run exist, then close again: submits are denied
        run = orch.start_run("support")
        gov.engine.mode = "closed"
        with pytest.raises(PolicyDenied, match="no-policy"):
            orch.submit(task_env(run.id))


def test_budget_warnings_rejection_and_settle_through_submit(
    home: Path, clock: VirtualClock
) -> None:
    """Hints reserve, set_usage settles; 80/90% warnings once; what does not fit is rejected."""
    orch, gov = _open(home, clock)
    with orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> str:
            ctx.set_usage(input_tokens=task.payload["used"], output_tokens=0)
            return "ok"

        budget = {"total_tokens": 100, "per_agent": {"billing": {"total_tokens": 90}}}
        run = orch.start_run("support", budget=budget)

        def submit(id: str, used: int, hint: int, recipient: str = "billing") -> None:
            orch.submit(
                task_env(run.id, id=id, recipient=recipient, payload={"used": used},
                         usage={"input_tokens": hint})
            )  # fmt: skip

        submit("a", 40, 45)
        submit("b", 40, 45)  # billing holds 90 of 90
        with pytest.raises(BudgetExceeded, match=r"\(agent:billing\)") as info:
            submit("c", 1, 1)
        assert isinstance(info.value, orca.governance.BudgetExceeded)
        orch.run_until_idle(timeout=30)  # settles 40 + 40: the run and billing cross 80%
        submit("d", 10, 10)
        orch.run_until_idle(timeout=30)  # 90: the run at 90%, billing at 100%
        submit("e", 0, 1, recipient="search")  # another agent: only the run's limit applies
        with pytest.raises(BudgetExceeded, match=r"\(run\)"):
            submit("f", 0, 10, recipient="search")
        rows = {(u.scope, u.dimension): u for u in gov.book.usage(run.id)}
    assert rows[("run", "total_tokens")].used == 90 and rows[("run", "total_tokens")].reserved == 1
    warnings = [r["message"] for r in _payloads(home, "budget.warning")]
    assert warnings == [
        f"run {run.id} at 80% of its total_tokens budget (80 of 100)",
        f"run {run.id} agent billing at 80% of its total_tokens budget (80 of 90)",
        f"run {run.id} at 90% of its total_tokens budget (90 of 100)",
        f"run {run.id} agent billing at 90% of its total_tokens budget (90 of 90)",
    ]
    exceeded = _payloads(home, "budget.exceeded")
    assert [(x["scope"], x["dimension"]) for x in exceeded] == [
        ("agent:billing", "total_tokens"), ("run", "total_tokens"),
    ]  # fmt: skip


def test_hot_reload_good_broken_good_is_recorded(home: Path, clock: VirtualClock) -> None:
    """A broken edit is rejected (policy.reload_rejected entry) and the old policy still decides."""
    orch, gov = _open(home, clock)
    assert gov.reloader is not None
    with orch:
        run = orch.start_run("support")
        (home / "policy.yaml").write_text("rules: [{name: x, phase: nope, action: deny}]\n")
        assert gov.reloader.reload().status == "rejected"
        with pytest.raises(PolicyDenied):
            orch.submit(task_env(run.id, payload={"amount": 900}))
        (home / "policy.yaml").write_text("rules: []\n")
        assert gov.reloader.reload().status == "loaded"
        orch.submit(task_env(run.id, id="e-2", payload={"amount": 900}))
    [rejected] = _payloads(home, "policy.reload_rejected")
    assert "rules[0].phase" in rejected["error"] and rejected["path"].endswith("policy.yaml")
    assert gov.metrics.reload_rejected == 1


def test_provider_edge_entries_go_to_the_ledger(home: Path, clock: VirtualClock) -> None:
    """gov.guard(run, agent) governs a real client; its decision and settlement are entries."""
    orch, gov = _open(home, clock, policy="model_allowlist: [gpt-4o]\nrules: []\n")
    with orch, FakeProvider() as fp:
        run = orch.start_run("support", budget={"output_tokens": 1000})
        client = instrument(
            openai.OpenAI(api_key="sk-test-0000000000", base_url=fp.base_url, max_retries=0),
            governor=gov.guard(run, "writer"),
        )
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=10
        )
        with pytest.raises(orca.governance.PolicyDenied):
            client.chat.completions.create(
                model="gpt-3", messages=[{"role": "user", "content": "hi"}]
            )
    assert [k for k in kinds(home, run.id) if k.startswith(("policy", "budget"))] == [
        "budget.settled",
        "policy.decision",
    ]
    assert len(fp.requests) == 1


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from orca.orchestrator import Governance, Orchestrator

    home = Path(sys.argv[1])
    gov = Governance.open(home, watch=False)
    orch = Orchestrator.open(home, seed=7, policy=gov, budget=gov)
    gov.bind(orch)

    @orch.agent("billing")
    def billing(task, ctx):
        ctx.set_usage(input_tokens=30)
        return "ok"

    budget = {"input_tokens": 100, "per_agent": {"billing": {"input_tokens": 90}}}
    run = orch.start_run("support", budget=budget)
    for i in range(3):
        orch.submit({"id": f"e-{i}", "run": run.id, "kind": "agent_task", "sender": "triage",
                     "recipient": "billing", "payload": {}, "usage": {"input_tokens": 30}})
    orch.run_until_idle(timeout=30)
    print(run.id, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.slow
def test_budgets_survive_sigkill_and_restart(home: Path) -> None:
    """A process spends 90 of 100 and is SIGKILLed; reopened, the book knows, and warns no more."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        assert run_id
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    warnings_before = len(_payloads(home, "budget.warning"))
    assert warnings_before == 4  # 80% and 90% of the run and of billing
    gov = Governance.open(home, watch=False)
    with Orchestrator.open(home, seed=8, policy=gov, budget=gov) as orch:
        gov.bind(orch)

        @orch.agent("search")
        def search(task: Task, ctx: TaskContext) -> str:
            ctx.set_usage(input_tokens=5)
            return "ok"

        rows = {(u.scope, u.dimension): u.used for u in gov.book.usage(run_id)}
        assert rows[("run", "input_tokens")] == 90 and rows[("agent:billing", "input_tokens")] == 90
        base = {"run": run_id, "kind": "agent_task", "sender": "triage", "payload": {}}
        with pytest.raises(BudgetExceeded):
            orch.submit({**base, "id": "e-9", "recipient": "billing", "usage": {"input_tokens": 1}})
        orch.submit({**base, "id": "e-10", "recipient": "search", "usage": {"input_tokens": 10}})
        orch.run_until_idle(timeout=30)  # settles 5 more: 95 of 100, thresholds already warned
        rows = {(u.scope, u.dimension): u.used for u in gov.book.usage(run_id)}
        assert rows[("run", "input_tokens")] == 95
    assert len(_payloads(home, "budget.warning")) == warnings_before


def test_runs_show_lists_usage_against_budget_and_interventions(
    home: Path, clock: VirtualClock
) -> None:
    """`orca runs show` gains each scope's usage vs its limit and every intervention."""
    orch, _ = _open(home, clock)
    with orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> str:
            ctx.set_usage(input_tokens=80, output_tokens=5)
            return "ok"

        run = orch.start_run("support", budget={"per_agent": {"billing": {"input_tokens": 100}}})
        orch.submit(task_env(run.id, payload={"note": "mail a@b.example"}))
        with pytest.raises(PolicyDenied):
            orch.submit(task_env(run.id, id="e-2", payload={"amount": 900}))
        orch.run_until_idle(timeout=30)
    result = CliRunner().invoke(cli, ["runs", "show", run.id, "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    gov = json.loads(result.output)["governance"]
    rows = {(u["scope"], u["dimension"]): u for u in gov["usage"]}
    assert rows[("agent:billing", "input_tokens")]["used"] == 80
    assert rows[("agent:billing", "input_tokens")]["limit"] == 100
    assert [i["kind"] for i in gov["interventions"]] == [
        "policy.decision",
        "policy.decision",
        "budget.warning",
    ]
    text = CliRunner().invoke(cli, ["runs", "show", run.id, "--home", str(home)]).output
    assert "agent:billing" in text and "80.0%" in text
    assert "deny by big-refunds (needs-review)" in text and "modify by pii (pii-redacted)" in text
    assert "a@b.example" not in text


def test_orca_trace_shows_denials_inline(home: Path, clock: VirtualClock) -> None:
    """After the collector runs, the run's trace shows the denial and its rule, marked ✖."""
    from orca.collector import Collector, CollectorConfig

    orch, _ = _open(home, clock)
    with orch:
        run = orch.start_run("support")
        with pytest.raises(PolicyDenied):
            orch.submit(task_env(run.id, payload={"amount": 900, "note": "private-note-77"}))
        orch.end_run(run)
    with Collector(home, CollectorConfig()) as collector:
        collector.drain()
    out = CliRunner().invoke(cli, ["trace", run.trace_id, "--home", str(home)]).output
    line = next(x for x in out.splitlines() if "policy.decision" in x)
    assert "✖" in line and "deny big-refunds" in line and "(needs-review)" in line
    assert "private-note-77" not in out
    [check] = [
        r for r in journal_records(home) if r["kind"] == "span-open" and r["name"] == "policy.check"
    ]
    assert check["trace"] == run.trace_id and check["component"] == "policy"
    assert check["attrs"]["orca.policy.decision"] == "deny"
    assert check["attrs"]["orca.policy.rule"] == "big-refunds"
    assert "policy.check" in out


def test_governor_is_the_orchestrator_inside_a_handler(home: Path, clock: VirtualClock) -> None:
    """instrument(client, governor=orch): governed for the task's run and agent; refused outside."""
    from orca.orchestrator import InvalidRequest

    orch, gov = _open(home, clock, policy="model_allowlist: [gpt-4o]\nrules: []\n")
    outcomes: list[str] = []
    with orch, FakeProvider() as fp:
        client = instrument(
            openai.OpenAI(api_key="sk-test-0000000000", base_url=fp.base_url, max_retries=0),
            governor=orch,
        )

        @orch.agent("writer")
        def writer(task: Task, ctx: TaskContext) -> str:
            msgs = [{"role": "user", "content": "hi"}]
            client.chat.completions.create(model="gpt-4o", messages=msgs, max_tokens=100)
            try:
                client.chat.completions.create(model="gpt-4o", messages=msgs, max_tokens=900)
            except orca.governance.BudgetExceeded as exc:
                outcomes.append(str(exc.scope))
            return "ok"

        run = orch.start_run("support", budget={"per_agent": {"writer": {"output_tokens": 500}}})
        orch.submit(task_env(run.id, recipient="writer"))
        orch.run_until_idle(timeout=30)
        with pytest.raises(InvalidRequest, match="inside an agent handler"):
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
    assert outcomes == ["agent:writer"] and len(fp.requests) == 1
    rows = {(u.scope, u.dimension): u for u in gov.book.usage(run.id)}
    assert rows[("agent:writer", "output_tokens")].reserved == 0
    assert "budget.exceeded" in kinds(home, run.id) and "budget.settled" in kinds(home, run.id)


def test_pre_start_run_is_governed_and_a_bad_budget_is_refused(
    home: Path, clock: VirtualClock
) -> None:
    """A run the policy forbids is never started (policy.decision entry); a bad budget is a
    clear BudgetError at start_run, not a later fail-closed surprise."""
    policy = (
        "rules:\n  - {name: no-nightly, phase: pre_start_run, action: deny, "
        "match: {payload: [{path: $.workflow, equals: nightly-wipe}]}}\n"
    )
    orch, _ = _open(home, clock, policy=policy)
    with orch:
        with pytest.raises(orca.governance.PolicyDenied, match="rule-deny"):
            orch.start_run("nightly-wipe")
        with pytest.raises(orca.governance.BudgetError, match="tokens"):
            orch.start_run("support", budget={"tokens": 5})
        run = orch.start_run("support", metadata={"user": "x@corp.example"})
        assert run.metadata == {"user": "[EMAIL_1]"}
        assert [r.workflow for r in orch.runs()] == ["support"]
    [denied, redacted] = _payloads(home, "policy.decision")
    assert (denied["phase"], denied["rule"]) == ("pre_start_run", "no-nightly")
    assert (redacted["action"], redacted["redactions"]) == ("modify", {"email": 1})


def test_a_flag_rule_winning_still_redacts_pii(home: Path, clock: VirtualClock) -> None:
    """allow_but_flag decides, yet the card number is replaced before anything is recorded."""
    policy = POLICY + "  - {name: flag-billing, phase: pre_submit, action: allow_but_flag, "
    policy += "match: {recipient: billing}}\n"
    orch, _ = _open(home, clock, policy=policy)
    seen: list[Any] = []
    with orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> str:
            seen.append(task.payload)
            return "ok"

        run = orch.start_run("support")
        orch.submit(task_env(run.id, payload={"note": "card 4111 1111 1111 1111"}))
        orch.run_until_idle(timeout=30)
    assert seen == [{"note": "card [CARD_1]"}]
    [decision] = _payloads(home, "policy.decision")
    assert decision["action"] == "allow_but_flag" and decision["redactions"] == {"card": 1}
    assert b"4111 1111" not in (home / "ledger" / "ledger.ndjson").read_bytes()


def test_a_completion_without_usage_is_charged_its_hint_before_and_after_restart(
    home: Path, clock: VirtualClock
) -> None:
    """No usage reported: the hint stands live, and still after the state is rebuilt."""
    orch, gov = _open(home, clock)

    @orch.agent("billing")
    def billing(task: Task, ctx: TaskContext) -> str:
        return "ok"  # reports no usage

    run = orch.start_run("support", budget={"input_tokens": 100})
    orch.submit(task_env(run.id, usage={"input_tokens": 70}))
    orch.run_until_idle(timeout=30)
    live = {(u.scope, u.dimension): u.used for u in gov.book.usage(run.id)}
    orch.abandon()
    again, gov2 = _open(home, clock)
    with again:
        after = {(u.scope, u.dimension): u.used for u in gov2.book.usage(run.id)}
        with pytest.raises(BudgetExceeded):
            again.submit(task_env(run.id, id="e-2", usage={"input_tokens": 31}))
    assert live[("run", "input_tokens")] == after[("run", "input_tokens")] == 70
    text = CliRunner().invoke(cli, ["runs", "show", run.id, "--home", str(home)]).output
    assert "70 / 100" in text


def test_handler_results_are_governed_post_submit(home: Path, clock: VirtualClock) -> None:
    """A returned result is redacted, or withheld when denied; both leave policy.decision."""
    policy = POLICY + (
        "  - {name: no-dumps, phase: post_submit, action: deny, "
        "match: {kind: task_result, payload: [{path: $.dump, equals: true}]}}\n"
    )
    orch, _ = _open(home, clock, policy=policy)
    with orch:

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> dict[str, Any]:
            if task.payload.get("dump"):
                return {"dump": True, "rows": "ssn 219-09-9999 secret-dump-rows"}
            return {"note": "refund sent to ceo@bigcorp.example"}

        run = orch.start_run("support")
        orch.submit(task_env(run.id, id="a", payload={}))
        orch.submit(task_env(run.id, id="b", payload={"dump": True}))
        orch.run_until_idle(timeout=30)
    results = {e.args["task"]: e.result for e in entries(home) if e.kind == "task.completed"}
    assert results == {"a": {"note": "refund sent to [EMAIL_1]"}, "b": {"withheld": "no-dumps"}}
    audits = [(p["phase"], p["action"], p["rule"]) for p in _payloads(home, "policy.decision")]
    assert audits == [("post_submit", "modify", "pii"), ("post_submit", "deny", "no-dumps")]
    assert b"secret-dump-rows" not in (home / "ledger" / "ledger.ndjson").read_bytes()
