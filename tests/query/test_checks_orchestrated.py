"""The orchestrated-run checks, end to end: a real orchestrator, a real collector, the store."""

from pathlib import Path

import pytest

from orca.collector import Collector, CollectorConfig
from orca.orchestrator import IdempotencyConflict, Orchestrator, RetryPolicy, VirtualClock
from orca.query import run_checks
from orca.store import open_store

NAMES = ["dead-letter", "retry-storm", "expired-task", "stuck-lease", "idempotency-conflict"]


def env(run: str, id: str, **kw: object) -> dict[str, object]:
    return {
        "id": id,
        "run": run,
        "kind": "agent_task",
        "sender": "triage",
        "recipient": "billing",
        "payload": {"id": id},
        **kw,
    }


def collect(home: Path, trace: str) -> dict[str, tuple[bool, list[str]]]:
    """Drain the home into its store and run the five checks on the run's trace."""
    config = CollectorConfig(
        search_every_s=1e9,
        prune_every_s=1e9,
        journal_gc_every_s=1e9,
        retention=None,
        journal_grace=None,
        journal_retention=None,
    )
    with Collector(home, config) as c:
        c.drain()
    store = open_store(home)
    try:
        rows = store.get_trace(trace)
    finally:
        store.close()
    assert rows is not None
    return {
        r.name: (r.passed, [f.message for f in r.findings]) for r in run_checks([rows], only=NAMES)
    }


def test_each_check_fires_on_its_defect(home: Path) -> None:
    """Dead letter, retry storm, expiry, a stuck lease and a reused id are each found."""
    clock = VirtualClock()
    with Orchestrator.open(home, clock=clock, seed=7, retry=RetryPolicy(jitter="none")) as orch:
        run = orch.start_run("defects")
        orch.submit(env(run.id, "poison"))
        for _ in range(5):
            [t] = orch.claim("billing")
            orch.fail(t.id, "boom")
            clock.advance(60_000)
        orch.submit(env(run.id, "late", ttl_ms=1_000))
        clock.advance(1_000)
        orch.tick()
        orch.submit(env(run.id, "stuck"))
        for _ in range(2):
            orch.claim("billing", lease_ms=1_000)
            clock.advance(1_000)
        [t] = orch.claim("billing")
        orch.complete(t.id, "finally")
        with pytest.raises(IdempotencyConflict):
            orch.submit(env(run.id, "stuck", payload="other"))
        orch.end_run(run)
    got = collect(home, run.trace_id)
    assert {n: ok for n, (ok, _) in got.items()} == dict.fromkeys(NAMES, False)
    assert got["dead-letter"][1] == [
        "task poison dead-lettered after attempt 5: 5 attempts failed; last: boom"
    ]
    assert got["retry-storm"][1] == [
        "task poison attempted 5× (agent billing)",
        "task stuck attempted 3× (agent billing)",
    ]
    assert got["expired-task"][1] == ["task late expired (its TTL passed) before it was done"]
    assert got["stuck-lease"][1] == [
        "task stuck: lease expired 2× with no heartbeat (worker dying or hung)"
    ]
    assert got["idempotency-conflict"][1] == [
        "envelope id stuck reused by triage with different content"
    ]


def test_a_clean_run_passes_every_check(home: Path) -> None:
    """A run with one retry and a heartbeating worker is silent."""
    clock = VirtualClock()
    with Orchestrator.open(home, clock=clock, seed=7) as orch:
        run = orch.start_run("clean")
        orch.submit(env(run.id, "a"))
        orch.submit(env(run.id, "a"))  # a resend is not a conflict
        [t] = orch.claim("billing", lease_ms=1_000)
        orch.fail(t.id, "flaky once")
        clock.advance(2_000)
        [t] = orch.claim("billing", lease_ms=1_000)
        clock.advance(900)
        orch.heartbeat(t.id)
        orch.complete(t.id, "ok")
        orch.end_run(run)
    got = collect(home, run.trace_id)
    assert got == {n: (True, []) for n in NAMES}
