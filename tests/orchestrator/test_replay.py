"""Replay-on-start: the state rebuilt from the ledger alone, or from a snapshot plus its tail."""

import json
import threading
from pathlib import Path

import pytest
from tests.orchestrator.conftest import SEED, task_env

from orca.orchestrator import Orchestrator, SnapshotIgnored, VirtualClock


def workload(orch: Orchestrator, clock: VirtualClock) -> str:
    """A run with a completed, a retried, a leased and a pending task and a duplicate id."""
    run = orch.start_run("support", metadata={"user": "alice"})
    for i in range(4):
        orch.submit(task_env(run.id, id=f"e-{i}"))
    [a, b] = orch.claim("billing", max_tasks=2, lease_ms=5_000)
    orch.complete(a.id, {"ok": 1})
    orch.fail(b.id, "flaky")
    orch.claim("billing", lease_ms=60_000)
    clock.advance(1)
    return run.id


def test_reopen_rebuilds_exactly_the_state(home: Path, clock: VirtualClock) -> None:
    """Dropping the orchestrator without a snapshot and reopening gives the same state."""
    orch = Orchestrator.open(home, clock=clock, seed=SEED)
    run = workload(orch, clock)
    before = orch.state_view()
    orch.abandon()
    with Orchestrator.open(home, clock=clock, seed=SEED + 1) as again:
        assert not again.from_snapshot and again.replayed_entries > 0
        assert again.state_view() == before
        assert again.problems == []
        again.submit(task_env(run, id="e-0"))  # the idempotency index survived: a duplicate
        [task] = again.claim("billing")  # the retried one, its backoff kept
        assert task.attempt >= 1


def test_snapshot_bounds_the_replay(home: Path, clock: VirtualClock) -> None:
    """A clean close writes a snapshot; reopening replays nothing after it."""
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:
        workload(orch, clock)
        before = orch.state_view()
    with Orchestrator.open(home, clock=clock, seed=SEED) as again:
        assert again.from_snapshot and again.replayed_entries == 0
        assert again.state_view() == before
        run = again.runs()[0]
        again.submit(task_env(run.id, id="e-9"))
        after = again.state_view()
    snap = json.loads((home / "orchestrator" / "snapshot.json").read_text())
    assert snap["entry_id"] > 0 and len(snap["entry_hash"]) == 64
    with Orchestrator.open(home, clock=clock, seed=SEED, use_snapshot=False) as full:
        assert full.state_view() == after


def test_a_snapshot_that_does_not_match_the_ledger_is_ignored(
    home: Path, clock: VirtualClock
) -> None:
    """A snapshot naming an entry the ledger does not hold warns and replays everything."""
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:
        workload(orch, clock)
        before = orch.state_view()
    path = home / "orchestrator" / "snapshot.json"
    snap = json.loads(path.read_text())
    snap["entry_hash"] = "0" * 64
    snap["state"]["tasks"] = {}
    path.write_text(json.dumps(snap))
    with pytest.warns(SnapshotIgnored, match="does not hold"):
        again = Orchestrator.open(home, clock=clock, seed=SEED)
    with again:
        assert not again.from_snapshot
        assert again.state_view() == before
    path.write_text("{not json")
    with pytest.warns(SnapshotIgnored, match="unreadable"):
        Orchestrator.open(home, clock=clock, seed=SEED).close(snapshot=False)


def test_snapshots_taken_under_concurrent_load_match_the_ledger(
    home: Path, clock: VirtualClock
) -> None:
    """Automatic snapshots while 8 threads submit: each pauses new work, none deadlocks."""
    with Orchestrator.open(home, clock=clock, seed=SEED, snapshot_every=40) as orch:
        run = orch.start_run("load")

        def work(i: int) -> None:
            for n in range(30):
                orch.submit(task_env(run.id, id=f"e-{i}-{n}"))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        snap = json.loads((home / "orchestrator" / "snapshot.json").read_text())
        assert snap["entry_id"] > 40
        before = orch.state_view()
        orch.abandon()  # no final snapshot: the last automatic one plus the tail
    with Orchestrator.open(home, clock=clock, seed=SEED) as again:
        assert again.from_snapshot
        assert again.state_view() == before


def test_concurrent_snapshot_writes_neither_fail_nor_mix(home: Path) -> None:
    """Threads writing snapshots at once each rename a whole file of their own: none is lost."""
    from orca.ledger import Ledger, read_entries
    from orca.orchestrator._snapshot import snapshot_path, write_snapshot

    with Ledger.open(home) as led:
        led.append({"kind": "run.started", "run": "r1"})
    [entry] = read_entries(home).entries
    states = [json.dumps({"writer": i, "pad": "x" * 20_000}).encode() for i in range(8)]
    start = threading.Barrier(len(states))
    errors: list[BaseException] = []

    def write(state: bytes) -> None:
        start.wait()
        try:
            for _ in range(25):
                write_snapshot(home, state, entry)
        except BaseException as exc:  # collected: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in states]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    doc = json.loads(snapshot_path(home).read_bytes())
    assert json.dumps(doc["state"]).encode() in {json.dumps(json.loads(s)).encode() for s in states}
    assert [p.name for p in snapshot_path(home).parent.iterdir()] == ["snapshot.json"]
