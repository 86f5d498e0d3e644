"""Tasks under the virtual clock: leases, retries with backoff, TTL, dead letters, cancellation.

Each test asserts the exact ledger entries the scenario must leave.
"""

import random
from pathlib import Path
from typing import Any

import pytest
from tests.orchestrator.conftest import SEED, entries, task_env

from orca.orchestrator import (
    InvalidRequest,
    LeaseLost,
    Orchestrator,
    RetryPolicy,
    TaskNotFound,
    VirtualClock,
)

T0 = VirtualClock.DEFAULT_START_MS


def tail(home: Path, run: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, args) of the run's task entries, in ledger order."""
    return [(e.kind, e.args) for e in entries(home) if e.run == run and e.kind.startswith("task.")]


def test_claim_complete_records_claim_then_result(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """A claim leases the task for lease_ms; completing records the result once."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    [task] = orch.claim("billing", lease_ms=10_000)
    assert (task.id, task.attempt, task.lease_until_ms) == ("e-1", 1, T0 + 10_000)
    assert task.payload == {"order": "A-17"} and task.envelope_id == "e-1"
    assert orch.claim("billing") == []  # leased: nobody else gets it
    clock.advance(4_000)
    assert orch.heartbeat(task.id) == T0 + 14_000
    entry = orch.complete(task.id, {"refunded": True}, usage={"output_tokens": 3})
    assert entry.result == {"refunded": True}
    assert tail(home, run.id) == [
        (
            "task.claimed",
            {
                "task": "e-1",
                "attempt": 1,
                "agent": "billing",
                "lease_until_ms": T0 + 10_000,
                "lease_ms": 10_000,
            },
        ),
        ("task.heartbeat", {"task": "e-1", "attempt": 1, "lease_until_ms": T0 + 14_000}),
        ("task.completed", {"task": "e-1", "attempt": 1}),
    ]
    with pytest.raises(LeaseLost, match="completed"):
        orch.complete(task.id, "again")  # no task completes twice


def test_lease_expiry_makes_the_task_claimable_again(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """A lease that runs out is task.lease_expired; the next claim is attempt 2; the stale
    worker's completion is refused."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    [first] = orch.claim("billing", lease_ms=5_000)
    clock.advance(4_999)
    assert orch.claim("billing") == []
    clock.advance(1)
    [second] = orch.claim("billing", lease_ms=5_000)
    assert second.attempt == 2 and second.span_id != first.span_id
    with pytest.raises(LeaseLost, match="stale"):
        orch.complete(first.id, "late", attempt=first.attempt)
    orch.complete(second.id, "ok", attempt=second.attempt)
    assert [k for k, _ in tail(home, run.id)] == [
        "task.claimed",
        "task.lease_expired",
        "task.claimed",
        "task.completed",
    ]
    expired = next(e for e in entries(home) if e.kind == "task.lease_expired")
    assert expired.args == {"task": "e-1", "attempt": 1, "heartbeats": 0}
    assert expired.meta == {"at_ms": T0 + 5_000, "then": "retry"}


def test_retry_backoff_without_jitter_is_exact(home: Path, clock: VirtualClock) -> None:
    """Base 1 s ×2 capped at 3 s: retries wait 1 s, 2 s, 3 s; the 4th failure dead-letters."""
    policy = RetryPolicy(base_ms=1_000, factor=2, cap_ms=3_000, max_attempts=4, jitter="none")
    with Orchestrator.open(home, clock=clock, seed=SEED, retry=policy) as orch:
        run = orch.start_run("support")
        orch.submit(task_env(run.id))
        waits = []
        for attempt in range(1, 5):
            [task] = orch.claim("billing")
            assert task.attempt == attempt
            entry = orch.fail(task.id, f"boom {attempt}")
            if entry.meta["retry_at_ms"] is not None:
                waits.append(entry.meta["retry_at_ms"] - clock.now_ms())
                clock.advance(waits[-1] - 1)
                assert orch.claim("billing") == []  # not before its time
                clock.advance(1)
    assert waits == [1_000, 2_000, 3_000]
    got = tail(home, run.id)
    assert [k for k, _ in got][-2:] == ["task.failed", "task.dead_lettered"]
    assert got[-1][1] == {"task": "e-1", "attempt": 4, "reason": "4 attempts failed; last: boom 4"}


def test_full_jitter_is_seeded_and_below_the_ceiling(home: Path, clock: VirtualClock) -> None:
    """With full jitter each delay is the seeded draw in [0, ceiling]: same seed, same delays."""
    policy = RetryPolicy(max_attempts=6)
    with Orchestrator.open(home, clock=clock, seed=SEED, retry=policy) as orch:
        run = orch.start_run("support")
        orch.submit(task_env(run.id))
        delays = []
        for _ in range(5):
            [task] = orch.claim("billing")
            retry_at = orch.fail(task.id, "boom").meta["retry_at_ms"]
            delays.append(retry_at - clock.now_ms())
            clock.advance(retry_at - clock.now_ms())
    rng = random.Random(SEED)
    expected = [rng.randint(0, min(60_000, 1_000 * 2**n)) for n in range(5)]
    assert delays == expected, f"seed {SEED}"
    assert all(0 <= d <= min(60_000, 1_000 * 2**n) for n, d in enumerate(delays))


def test_envelope_retry_override_and_non_retryable_failure(orch: Orchestrator, home: Path) -> None:
    """An envelope's own retry policy wins; retryable=False dead-letters at once."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id, retry={"max_attempts": 1}))
    orch.submit(task_env(run.id, id="e-2"))
    [one] = orch.claim("billing")
    orch.fail(one.id, "boom")
    [two] = orch.claim("billing")
    orch.fail(two.id, "card declined", retryable=False)
    by_task = {a["task"]: a for k, a in tail(home, run.id) if k == "task.dead_lettered"}
    assert by_task["e-1"]["reason"] == "1 attempts failed; last: boom"
    assert by_task["e-2"]["reason"] == "not retryable: card declined"


def test_lease_expiring_on_the_last_attempt_dead_letters(home: Path, clock: VirtualClock) -> None:
    """A worker that keeps dying uses up the attempts: lease_expired then dead_lettered."""
    with Orchestrator.open(home, clock=clock, seed=SEED, retry=RetryPolicy(max_attempts=2)) as orch:
        run = orch.start_run("support")
        orch.submit(task_env(run.id))
        for _ in range(2):
            orch.claim("billing", lease_ms=1_000)
            clock.advance(1_000)
        assert orch.tick() == 2
    assert [k for k, _ in tail(home, run.id)] == [
        "task.claimed",
        "task.lease_expired",
        "task.claimed",
        "task.lease_expired",
        "task.dead_lettered",
    ]


def test_ttl_expires_a_pending_task_and_it_is_never_delivered(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """Past its TTL a pending task is task.expired; a claim after that gets nothing."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id, ttl_ms=2_000))
    clock.advance(2_000)
    assert orch.claim("billing") == []
    assert tail(home, run.id) == [("task.expired", {"task": "e-1"})]


def test_ttl_passing_during_a_lease_expires_the_task_when_the_lease_ends(
    orch: Orchestrator, home: Path, clock: VirtualClock
) -> None:
    """A leased task stays with its worker; when the lease ends past the TTL it expires."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id, ttl_ms=2_000))
    orch.claim("billing", lease_ms=5_000)
    clock.advance(5_000)
    orch.tick()
    assert [k for k, _ in tail(home, run.id)] == [
        "task.claimed",
        "task.lease_expired",
        "task.expired",
    ]


def test_cancel_run_cancels_pending_and_leased_tasks(orch: Orchestrator, home: Path) -> None:
    """cancel_run: every unfinished task is task.cancelled, then run.ended cancelled."""
    run = orch.start_run("support")
    for i in range(3):
        orch.submit(task_env(run.id, id=f"e-{i}"))
    [leased] = orch.claim("billing")
    orch.complete(orch.claim("billing")[0].id, "done")
    ended = orch.cancel_run(run)
    assert ended.status == "cancelled"
    got = [(e.kind, e.args) for e in entries(home) if e.run == run.id][-3:]
    assert got == [
        ("task.cancelled", {"task": "e-0"}),
        ("task.cancelled", {"task": "e-2"}),
        ("run.ended", {"status": "cancelled"}),
    ]
    with pytest.raises(LeaseLost, match="cancelled"):
        orch.complete(leased.id, "too late")


def test_bad_task_calls_say_what_is_wrong(orch: Orchestrator) -> None:
    """Unknown tasks, bad arguments and non-JSON results are clear errors."""
    with pytest.raises(TaskNotFound):
        orch.complete("nope", 1)
    with pytest.raises(InvalidRequest):
        orch.claim("billing", max_tasks=0)
    with pytest.raises(InvalidRequest, match="agent must be"):
        orch.claim("b" * 300)
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    [task] = orch.claim("billing")
    with pytest.raises(InvalidRequest, match="task e-1"):
        orch.complete(task.id, object())
    with pytest.raises(InvalidRequest):
        orch.end_run(run, "maybe")
