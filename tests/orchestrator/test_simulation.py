"""Deterministic simulation: seeded random schedules of everything that can happen, with crashes.

Each schedule interleaves run starts and ends, submits (new, resent and
conflicting ids, short and long TTLs), claims, heartbeats, completions,
failures (stale workers included), clock jumps, sweeps, snapshots and
simulated crashes (the orchestrator dropped without a snapshot and reopened
from the ledger), checking the invariants after every step. A failure names
the seed: ``ORCA_SIM_SEED=<seed> pytest tests/orchestrator/test_simulation.py``
replays exactly that schedule. ``ORCA_SIM_SCHEDULES`` runs more of them.

Homes live on tmpfs when there is one: this test is about the logic under
every interleaving; real crashes on the real disk are the chaos test's job.
"""

import os
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orca.ledger import read_entries
from orca.orchestrator import (
    EnvelopeRejected,
    LeaseLost,
    Orchestrator,
    RetryPolicy,
    Task,
    TaskContext,
    VirtualClock,
)

SCHEDULES = int(os.environ.get("ORCA_SIM_SCHEDULES", "200"))
STEPS = int(os.environ.get("ORCA_SIM_STEPS", "40"))
AGENTS = ("billing", "triage")


@contextmanager
def fast_home() -> Iterator[Path]:
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="orca-sim-", dir=base) as d:
        yield Path(d)


@dataclass
class World:
    """What the schedule did, as the clients saw it."""

    rng: random.Random
    clock: VirtualClock
    home: Path
    seed: int
    orch: Orchestrator
    generation: int = 0
    runs: list[str] = field(default_factory=list)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → envelope
    held: list[Task] = field(default_factory=list)  # claims a worker holds (maybe stale)
    read_offset: int = 0
    last_id: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)

    def reopen(self) -> None:
        self.generation += 1
        self.orch = open_orch(self.home, self.clock, self.seed * 1000 + self.generation, self.acked)


def open_orch(home: Path, clock: VirtualClock, seed: int, acked: dict[str, Any]) -> Orchestrator:
    orch = Orchestrator.open(
        home,
        clock=clock,
        seed=seed,
        retry=RetryPolicy(base_ms=200, cap_ms=2_000, max_attempts=3),
        snapshot_every=0,
    )
    rng = random.Random(seed)

    @orch.agent("triage")
    def triage(task: Task, ctx: TaskContext) -> int:
        """In process: hands some work on to billing, fails now and then."""
        roll = rng.random()
        if roll < 0.2:
            raise RuntimeError("triage flaked")
        if roll < 0.6:
            env = {"id": f"{task.id}/b{task.attempt}", "kind": "agent_task", "recipient": "billing",
                   "payload": {"from": task.id}, "ttl_ms": 60_000}  # fmt: skip
            ack = ctx.submit(env)
            if not ack.duplicate:
                acked[ack.envelope_id] = {**env, "run": task.run, "sender": "triage",
                                          "parent": ctx.span.span_id}  # fmt: skip
        return task.attempt

    return orch


def step(w: World) -> str:
    r, o = w.rng, w.orch
    op = r.choices(
        [
            "start",
            "submit",
            "resend",
            "conflict",
            "claim",
            "heartbeat",
            "complete",
            "fail",
            "advance",
            "tick",
            "end",
            "snapshot",
            "crash",
            "agents",
        ],
        weights=[3, 14, 3, 2, 12, 3, 8, 6, 8, 3, 1, 1, 2, 2],
    )[0]
    if op == "start" or (not w.runs and op in ("submit", "resend", "conflict", "end")):
        w.runs.append(o.start_run("sim").id)
        return "start"
    if op == "submit":
        env = {
            "id": f"e-{len(w.acked)}-{r.randrange(10**6)}",
            "run": r.choice(w.runs),
            "kind": "agent_task",
            "sender": "sim",
            "recipient": r.choice(AGENTS),
            "payload": {"n": r.randrange(100)},
            "ttl_ms": r.choice([500, 3_000, 60_000]),
        }
        try:
            ack = o.submit(env)
        except EnvelopeRejected as exc:
            assert exc.code in ("run-not-open",), exc
        else:
            assert not ack.duplicate
            w.acked[env["id"]] = env
    elif op == "resend" and w.acked:
        env = w.acked[r.choice(sorted(w.acked))]
        try:
            assert o.submit(env).duplicate
        except EnvelopeRejected as exc:
            assert exc.code in ("run-not-open", "expired"), exc
    elif op == "conflict" and w.acked:
        env = dict(w.acked[r.choice(sorted(w.acked))])
        env["payload"] = {"n": -1}
        with pytest.raises(EnvelopeRejected):
            o.submit(env)
    elif op == "claim":
        w.held += o.claim(
            r.choice(AGENTS), max_tasks=r.randint(1, 3), lease_ms=r.choice([300, 2_000])
        )
    elif op in ("heartbeat", "complete", "fail") and w.held:
        task = w.held.pop(r.randrange(len(w.held))) if op != "heartbeat" else r.choice(w.held)
        try:
            if op == "heartbeat":
                o.heartbeat(task.id, attempt=task.attempt)
            elif op == "complete":
                o.complete(task.id, {"by": task.attempt}, attempt=task.attempt)
            else:
                o.fail(task.id, "boom", retryable=r.random() < 0.8, attempt=task.attempt)
        except LeaseLost:
            if op == "heartbeat":
                w.held.remove(task)
    elif op == "advance":
        w.clock.advance(r.choice([1, 50, 250, 700, 2_500]))
    elif op == "tick":
        o.tick()
    elif op == "end" and w.runs:
        run = r.choice(w.runs)
        if o.get_run(run).status == "open":
            o.end_run(run, r.choice(["ok", "cancelled"]))
    elif op == "snapshot":
        o.snapshot()
    elif op == "agents":
        o.run_until_idle(inline=True, timeout=30)
    elif op == "crash":
        before = o.state_view()
        o.abandon()
        w.reopen()
        assert w.orch.state_view() == before, "reopened state differs from the state before"
        assert w.orch.problems == []
    return op


def check(w: World) -> None:
    """The invariants, after every step."""
    o = w.orch
    result = read_entries(w.home, w.read_offset)
    w.read_offset = result.next_offset
    for e in result.entries:
        assert e.id == w.last_id + 1, f"event ids must increase by one: {w.last_id} then {e.id}"
        w.last_id = e.id
        if e.kind == "envelope.accepted":
            w.accepted[e.args["id"]] += 1
        elif e.kind == "task.completed":
            w.completed[e.args["task"]] += 1
    assert set(w.accepted) == set(w.acked), "acknowledged ⇔ accepted in the ledger"
    assert max(w.accepted.values(), default=1) == 1, "an envelope accepted twice"
    assert max(w.completed.values(), default=1) == 1, "a task completed twice"
    o.tick()
    now = w.clock.now_ms()
    view = o.state_view()
    for tid, t in view["tasks"].items():
        status = t["status"]
        if status == "leased":
            assert t["lease_until_ms"] > now, f"{tid}: leased past its lease"
        elif status == "pending":
            assert t["expires_ms"] > now, f"{tid}: pending past its TTL"
            assert t["ready_ms"] is not None
        else:
            assert status in ("completed", "dead_lettered", "expired", "cancelled"), (tid, status)
        if status == "completed":
            assert w.completed[tid] == 1


def run_schedule(seed: int, steps: int) -> None:
    with fast_home() as home:
        clock = VirtualClock()
        acked: dict[str, Any] = {}
        orch = open_orch(home, clock, seed * 1000, acked)
        w = World(random.Random(seed), clock, home, seed, orch, acked=acked)
        trail: list[str] = []
        try:
            for _ in range(steps):
                trail.append(step(w))
                check(w)
            final = w.orch.state_view()
            w.orch.close()
            full = Orchestrator.open(home, clock=clock, seed=1, use_snapshot=False)
            assert full.state_view() == final, "a full replay differs from the live state"
            full.close(snapshot=False)
        except BaseException as exc:
            pytest.fail(
                f"simulation seed {seed} failed after steps {trail}: {type(exc).__name__}: {exc}\n"
                f"reproduce: ORCA_SIM_SEED={seed} pytest tests/orchestrator/test_simulation.py",
                pytrace=True,
            )
        finally:
            w.orch.abandon() if not w.orch._closed else None


def seeds() -> list[int]:
    if "ORCA_SIM_SEED" in os.environ:
        return [int(os.environ["ORCA_SIM_SEED"])]
    base = int(os.environ.get("ORCA_SIM_BASE", "20261201"))
    return [base + i for i in range(SCHEDULES)]


def test_random_schedules_keep_every_invariant() -> None:
    """A few hundred seeded schedules with crashes: every invariant after every step."""
    for seed in seeds():
        run_schedule(seed, STEPS)
