"""Submitting envelopes: acceptance, the checks in their order, each rejection recorded."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.orchestrator.conftest import SEED, entries, kinds, task_env

from orca.orchestrator import (
    BudgetDecision,
    BudgetExceeded,
    Envelope,
    EnvelopeExpired,
    IdempotencyConflict,
    InvalidEnvelope,
    Orchestrator,
    PolicyDecision,
    PolicyDenied,
    Reservation,
    Run,
    RunNotOpen,
    UnsupportedProtocol,
    Usage,
    VirtualClock,
)


def test_accept_records_the_envelope_and_acks_after_it_is_durable(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """An accepted envelope is one ledger entry; the ack names it."""
    run = orch.start_run("support")
    ack = orch.submit(task_env(run.id, ttl_ms=5_000))
    assert (ack.envelope_id, ack.run, ack.duplicate, ack.queued) == ("e-1", run.id, False, True)
    assert ack.expires_ms == clock.now_ms() + 5_000
    accepted = [e for e in entries(home) if e.kind == "envelope.accepted"]
    assert len(accepted) == 1 and accepted[0].id == ack.entry_id
    e = accepted[0]
    assert (e.run, e.trace, e.actor) == (run.id, run.trace_id, "triage")
    assert e.args["payload"] == {"order": "A-17"} and e.args["recipient"] == "billing"
    assert e.meta["expires_ms"] == ack.expires_ms


def test_same_id_same_content_returns_the_original_ack(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """A resend is not a second envelope: same ack, flagged duplicate, nothing new recorded."""
    run = orch.start_run("support")
    first = orch.submit(task_env(run.id))
    before = len(entries(home))
    clock.advance(10)
    again = orch.submit(Envelope(**{**task_env(run.id), "created_ms": clock.now_ms()}))
    assert again.duplicate and again.entry_id == first.entry_id
    assert again.accepted_ms == first.accepted_ms
    assert len(entries(home)) == before


def test_same_id_other_content_is_a_recorded_conflict(orch: Orchestrator, home: Path) -> None:
    """Reusing an id with a different payload raises and records idempotency-conflict."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    with pytest.raises(IdempotencyConflict) as info:
        orch.submit({**task_env(run.id), "payload": {"order": "B-2"}})
    assert info.value.code == "idempotency-conflict"
    rejected = [e for e in entries(home) if e.kind == "envelope.rejected"]
    assert [e.result["code"] for e in rejected] == ["idempotency-conflict"]
    assert rejected[0].id == info.value.entry_id
    assert rejected[0].args == {"id": "e-1", "kind": "agent_task", "recipient": "billing"}
    assert "B-2" not in str(rejected[0].to_dict())  # a rejection never records the payload


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"protocol_version": 2}, UnsupportedProtocol, "unsupported-protocol"),
        ({"run": "run-nope"}, RunNotOpen, "run-not-open"),
        ({"ttl_ms": 0}, EnvelopeExpired, "expired"),
        ({"created_ms": 0, "ttl_ms": 1000}, EnvelopeExpired, "expired"),
        ({"kind": "gossip"}, InvalidEnvelope, "invalid-envelope"),
        ({"parent": "xyz"}, InvalidEnvelope, "invalid-envelope"),
        ({"payload": {1, 2}}, InvalidEnvelope, "invalid-envelope"),
        ({"sender": "x" * 300}, InvalidEnvelope, "invalid-envelope"),
        ({"kind": "agent_task", "recipient": None}, InvalidEnvelope, "invalid-envelope"),
    ],
)
def test_each_rejection_has_its_code_and_entry(
    orch: Orchestrator, home: Path, change: dict[str, Any], error: type[Exception], code: str
) -> None:
    """Every refused envelope raises its EnvelopeRejected subclass and leaves one entry."""
    run = orch.start_run("support")
    with pytest.raises(error) as info:
        orch.submit({**task_env(run.id), **change})
    assert info.value.code == code
    assert str(info.value).startswith(code)
    rejected = [e for e in entries(home) if e.kind == "envelope.rejected"]
    assert [e.result["code"] for e in rejected] == [code]
    assert kinds(home).count("envelope.accepted") == 0


def test_checks_run_in_the_documented_order(orch: Orchestrator, home: Path) -> None:
    """Protocol before run, run before TTL, TTL before idempotency."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    with pytest.raises(UnsupportedProtocol):
        orch.submit({**task_env("run-nope"), "protocol_version": 9, "ttl_ms": 0})
    with pytest.raises(RunNotOpen):
        orch.submit({**task_env("run-nope"), "ttl_ms": 0})
    with pytest.raises(EnvelopeExpired):  # an expired resend with other content: expired wins
        orch.submit({**task_env(run.id), "payload": 1, "ttl_ms": 0})


def test_ended_run_refuses_envelopes(orch: Orchestrator) -> None:
    """Once a run ended, submitting to it is run-not-open."""
    run = orch.start_run("support")
    orch.end_run(run)
    with pytest.raises(RunNotOpen, match="has ended"):
        orch.submit(task_env(run.id))


class DenyRefunds:
    """A policy that denies refunds, redacts card numbers and flags billing."""

    def check_envelope(self, envelope: Envelope, run: Run) -> PolicyDecision:
        payload = envelope.payload or {}
        if payload.get("action") == "refund":
            return PolicyDecision(allowed=False, rule="no-refunds", reason="refunds need a human")
        if "card" in payload:
            return PolicyDecision(
                rule="redact-card", payload_modified=True, payload={**payload, "card": "****"}
            )
        return PolicyDecision(flagged=envelope.recipient == "billing", rule="watch-billing")


class Broken:
    """A policy hook that fails: the orchestrator must fail closed."""

    def check_envelope(self, envelope: Envelope, run: Run) -> PolicyDecision:
        raise RuntimeError("policy file unreadable")


def test_policy_hook_denies_redacts_and_flags(home: Path, clock: VirtualClock) -> None:
    """Deny → policy-denied naming the rule; modify → the redacted payload is what is recorded."""
    with Orchestrator.open(home, clock=clock, seed=SEED, policy=DenyRefunds()) as orch:
        run = orch.start_run("support")
        with pytest.raises(PolicyDenied, match="refunds need a human"):
            orch.submit(task_env(run.id, payload={"action": "refund"}))
        orch.submit(task_env(run.id, id="e-2", payload={"card": "4111111111111111"}))
        orch.submit(task_env(run.id, id="e-3"))
    rejected = [e for e in entries(home) if e.kind == "envelope.rejected"]
    assert rejected[0].result == {
        "code": "policy-denied",
        "reason": "refunds need a human",
        "rule": "no-refunds",
    }
    accepted = {e.args["id"]: e for e in entries(home) if e.kind == "envelope.accepted"}
    assert accepted["e-2"].args["payload"] == {"card": "****"}
    assert "4111111111111111" not in (home / "ledger" / "ledger.ndjson").read_text()
    assert accepted["e-3"].meta["policy"] == {
        "rule": "watch-billing",
        "flagged": True,
        "modified": False,
    }


def test_a_failing_policy_hook_denies(home: Path, clock: VirtualClock) -> None:
    """An error while deciding is a deny, never an accept."""
    with Orchestrator.open(home, clock=clock, seed=SEED, policy=Broken()) as orch:
        run = orch.start_run("support")
        with pytest.raises(PolicyDenied, match="policy hook failed"):
            orch.submit(task_env(run.id))


class TokenBudget:
    """A tiny real budget: reserves the usage hint against a per-run token limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used: dict[str, int] = {}
        self.settled: list[tuple[str, Usage | None]] = []
        self.released: list[str] = []
        self.restored: list[tuple[str, Usage | None]] = []

    def reserve(self, envelope: Envelope, run: Run) -> BudgetDecision:
        want = envelope.usage.input_tokens if envelope.usage else 0
        if self.used.get(run.id, 0) + want > self.limit:
            return BudgetDecision(allowed=False, reason=f"run {run.id} over {self.limit} tokens")
        self.used[run.id] = self.used.get(run.id, 0) + want
        warn = ("80% of tokens",) if self.used[run.id] >= 0.8 * self.limit else ()
        return BudgetDecision(
            reservation=Reservation(f"res-{envelope.id}", Usage(input_tokens=want)), warnings=warn
        )

    def settle(self, reservation: Reservation, usage: Usage | None, run: Run) -> Sequence[str]:
        self.settled.append((reservation.id, usage))
        return ["settled over estimate"] if usage and usage.input_tokens > 10 else []

    def release(self, reservation: Reservation, run: Run) -> None:
        self.released.append(reservation.id)

    def restore(self, reservation: Reservation, settled: Usage | None, run: Run) -> None:
        self.restored.append((reservation.id, settled))


def test_budget_hook_reserves_refuses_settles_and_restores(home: Path, clock: VirtualClock) -> None:
    """Reservations are recorded, refused ones rejected, settled on completion, restored on open."""
    budget = TokenBudget(limit=10)
    with Orchestrator.open(home, clock=clock, seed=SEED, budget=budget) as orch:
        run = orch.start_run("support")
        orch.submit(task_env(run.id, usage={"input_tokens": 8}))
        with pytest.raises(BudgetExceeded, match="over 10 tokens"):
            orch.submit(task_env(run.id, id="e-2", usage={"input_tokens": 5}))
        [task] = orch.claim("billing")
        orch.complete(task.id, "ok", usage={"input_tokens": 12})
    assert budget.settled == [("res-e-1", Usage(input_tokens=12))]
    assert kinds(home).count("budget.warning") == 2
    accepted = next(e for e in entries(home) if e.kind == "envelope.accepted")
    assert accepted.meta["reservation"] == {
        "id": "res-e-1",
        "amount": {"input_tokens": 8, "output_tokens": 0, "cost_usd": 0.0},
    }
    again = TokenBudget(limit=10)
    with Orchestrator.open(home, clock=clock, seed=SEED, budget=again):
        pass
    assert again.restored == [("res-e-1", Usage(input_tokens=12))]
