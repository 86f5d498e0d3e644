"""Smaller parts: the clock, retry policy and envelope invariants, results, events, failures."""

import os
import random
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.orchestrator.conftest import SEED, task_env

from orca.orchestrator import (
    Envelope,
    LeaseLost,
    Orchestrator,
    OrchestratorClosed,
    RetryPolicy,
    RunNotFinished,
    VirtualClock,
)
from orca.orchestrator._envelope import coerce_envelope


def test_virtual_clock_moves_only_forward() -> None:
    """advance adds; going back is refused; sleep_until jumps ahead only."""
    clock = VirtualClock(1_000)
    assert clock.advance(500) == 1_500 == clock.now_ms()
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    clock.sleep_until(1_200, threading.Event())
    assert clock.now_ms() == 1_500
    clock.sleep_until(9_000, threading.Event())
    assert clock.now_ms() == 9_000


@settings(deadline=None)  # a shared, loaded machine: time is not the property
@given(
    base=st.integers(0, 10_000),
    factor=st.floats(1, 4),
    cap=st.integers(0, 120_000),
    attempt=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_within_its_ceiling_and_the_ceiling_grows_to_the_cap(
    base: int, factor: float, cap: int, attempt: int, seed: int
) -> None:
    """Full jitter stays in [0, min(cap, base·factor^(n-1))]; ceilings never shrink."""
    policy = RetryPolicy(base_ms=base, factor=factor, cap_ms=cap)
    ceiling = policy.ceiling_ms(attempt)
    assert 0 <= policy.delay_ms(attempt, random.Random(seed)) <= ceiling <= cap
    assert policy.ceiling_ms(attempt + 1) >= ceiling
    none = RetryPolicy(base_ms=base, factor=factor, cap_ms=cap, jitter="none")
    assert none.delay_ms(attempt, random.Random(seed)) == ceiling


@settings(deadline=None)
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=10,
    ),
    created=st.integers(0, 2**41) | st.none(),
)
def test_envelope_round_trips_and_its_content_ignores_created_ms(
    payload: object, created: int | None
) -> None:
    """A mapping round trip gives the same envelope; created_ms never changes its content."""
    env = coerce_envelope({**task_env("run-1"), "payload": payload, "created_ms": created})
    assert coerce_envelope(env.to_dict()) == env
    other = Envelope(**{**env.to_dict(), "created_ms": 12345})
    assert other.content_hash() == env.content_hash()
    changed = Envelope(**{**env.to_dict(), "payload": [payload]})
    assert changed.content_hash() != env.content_hash()


def test_fetch_result_waits_for_a_result(orch: Orchestrator) -> None:
    """fetch_result(wait=...) returns once the result arrives; an ended run without one raises."""
    run = orch.start_run("support")

    def answer() -> None:
        time.sleep(0.2)
        orch.submit(
            {"id": "r", "run": run.id, "kind": "agent_error", "sender": "billing",
             "payload": {"why": "card declined"}}
        )  # fmt: skip

    t = threading.Thread(target=answer)
    t.start()
    result = orch.fetch_result(run, wait=30)
    t.join()
    assert (result.kind, result.ok, result.payload) == (
        "agent_error",
        False,
        {"why": "card declined"},
    )
    other = orch.start_run("support")
    orch.end_run(other, "error")
    with pytest.raises(RunNotFinished, match="ended error"):
        orch.fetch_result(other, wait=0.01)


def test_stream_events_follows_a_live_run(orch: Orchestrator) -> None:
    """follow=True yields entries as they are appended and stops after run.ended."""
    run = orch.start_run("support")

    def work() -> None:
        time.sleep(0.2)
        orch.submit(task_env(run.id))
        orch.end_run(run)

    t = threading.Thread(target=work)
    t.start()
    got = [e.kind for e in orch.stream_events(run, follow=True, poll_s=0.01)]
    t.join()
    assert got == ["run.started", "envelope.accepted", "task.cancelled", "run.ended"]
    assert [e.kind for e in orch.stream_events(run, start_event_id=3)] == [
        "task.cancelled",
        "run.ended",
    ]


def test_a_heartbeat_after_the_lease_ended_is_refused(
    orch: Orchestrator, clock: VirtualClock
) -> None:
    """A worker whose lease ran out cannot extend it: the task is going to someone else."""
    run = orch.start_run("support")
    orch.submit(task_env(run.id))
    [task] = orch.claim("billing", lease_ms=1_000)
    clock.advance(1_000)
    with pytest.raises(LeaseLost, match="lease ended"):
        orch.heartbeat(task.id)


def test_a_failed_ledger_write_acknowledges_nothing_and_stops(
    home: Path, clock: VirtualClock
) -> None:
    """When the disk refuses the entry, submit raises, later calls raise, reopening recovers."""
    orch = Orchestrator.open(home, clock=clock, seed=SEED)
    run = orch.start_run("support")
    ledger_file = orch._ledger._file  # the appender's fd: make the next write fail
    os.close(ledger_file.fd)
    ledger_file.fd = os.open(os.devnull, os.O_RDONLY)
    with pytest.raises(OrchestratorClosed, match="did not take the entry"):
        orch.submit(task_env(run.id))
    with pytest.raises(OrchestratorClosed, match="reopen"):
        orch.claim("billing")
    orch.abandon()
    with Orchestrator.open(home, clock=clock, seed=SEED) as again:
        assert again.tasks(run) == []  # never acknowledged, never there
        again.submit(task_env(run.id))
        assert [t.id for t in again.tasks(run)] == ["e-1"]
