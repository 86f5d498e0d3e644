"""In-process agents: delivery, hand-off by envelope, the trace it leaves, results and events."""

import threading
from pathlib import Path

import pytest
from tests.orchestrator.conftest import SEED, kinds, task_env

from orca.orchestrator import (
    Orchestrator,
    RunNotFinished,
    RunNotFound,
    Task,
    TaskContext,
    TaskFailed,
    VirtualClock,
)
from orca.testing import journal_records


def test_handoff_by_envelope_and_the_result_for_the_caller(orch: Orchestrator, home: Path) -> None:
    """triage hands off to billing; billing's result is the run's result."""

    @orch.agent("triage")
    def triage(task: Task, ctx: TaskContext) -> str:
        ctx.log.info("routing to billing")
        ctx.submit(
            id=f"{task.id}/billing", kind="agent_task", recipient="billing", payload=task.payload
        )
        return "handed off"

    @orch.agent("billing", concurrency=2)
    def billing(task: Task, ctx: TaskContext) -> dict[str, str]:
        ctx.set_usage(input_tokens=5, output_tokens=2)
        ctx.submit(
            id=f"{task.id}/answer",
            kind="agent_result",
            recipient=None,
            payload={"refund": task.payload["order"]},
        )
        return {"refunded": task.payload["order"]}

    run = orch.start_run("support")
    with pytest.raises(RunNotFinished, match="still open"):
        orch.fetch_result(run)
    orch.submit({**task_env(run.id, recipient="triage"), "sender": "user"})
    assert orch.run_until_idle(timeout=30, inline=True) == 2
    result = orch.fetch_result(run)
    assert (result.kind, result.payload, result.sender, result.ok) == (
        "agent_result",
        {"refund": "A-17"},
        "billing",
        True,
    )
    assert kinds(home, run.id) == [
        "run.started",
        "envelope.accepted",
        "task.claimed",
        "envelope.accepted",
        "task.completed",
        "task.claimed",
        "envelope.accepted",
        "task.completed",
    ]
    orch.end_run(run)
    assert [e.kind for e in orch.stream_events(run, max_events=2)] == [
        "run.started",
        "envelope.accepted",
    ]
    assert [e.id for e in orch.stream_events(run)][-1] == max(e.id for e in orch.stream_events(run))
    with pytest.raises(RunNotFound):
        orch.fetch_result("run-unknown")


def test_delivery_spans_are_children_of_the_sender_with_a_causal_link(
    home: Path, clock: VirtualClock
) -> None:
    """enqueue/dequeue/deliver spans land in the run's trace; deliver links to its enqueue."""
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:

        @orch.agent("triage")
        def triage(task: Task, ctx: TaskContext) -> None:
            ctx.submit(id="e-2", kind="agent_task", recipient="billing", payload={})

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> None:
            return None

        run = orch.start_run("support")
        orch.submit(task_env(run.id, recipient="triage"))
        orch.run_until_idle(inline=True)
        orch.end_run(run)
    records = journal_records(home)
    opens = {r["span"]: r for r in records if r["kind"] == "span-open"}
    assert {r["trace"] for r in opens.values()} == {run.trace_id}
    names = sorted(r["name"] for r in opens.values())
    assert names == ["queue.deliver"] * 2 + ["queue.dequeue"] * 2 + ["queue.enqueue"] * 2 + ["turn"]
    root = next(r for r in opens.values() if r["name"] == "turn")
    delivers = [r for r in opens.values() if r["name"] == "queue.deliver"]
    first = next(d for d in delivers if d["attrs"]["messaging.message.id"] == "e-1")
    second = next(d for d in delivers if d["attrs"]["messaging.message.id"] == "e-2")
    assert first["parent"] == root["span"]
    enq2 = next(
        r
        for r in opens.values()
        if r["name"] == "queue.enqueue" and r["attrs"]["messaging.message.id"] == "e-2"
    )
    assert enq2["parent"] == first["span"]  # triage's delivery span sent it
    assert second["parent"] == first["span"]  # delivered as a child of the sender's span
    links = [r for r in records if r["kind"] == "link"]
    assert {"span": second["span"], "to_span": enq2["span"]} in [
        {"span": r["span"], "to_span": r["to_span"]} for r in links
    ]
    closes = {r["span"]: r for r in records if r["kind"] == "span-close"}
    assert set(opens) == set(closes)  # every span is closed
    assert closes[second["span"]]["attrs"]["orca.task.outcome"] == "completed"


def test_a_failing_handler_is_retried_then_dead_lettered(home: Path, clock: VirtualClock) -> None:
    """Exceptions fail the attempt; run_until_idle jumps the virtual clock through backoffs."""
    with Orchestrator.open(home, clock=clock, seed=SEED) as orch:
        calls: list[int] = []

        @orch.agent("billing")
        def billing(task: Task, ctx: TaskContext) -> None:
            calls.append(task.attempt)
            if task.payload == "fatal":
                raise TaskFailed("card declined", retryable=False)
            raise RuntimeError("flaky")

        run = orch.start_run("support")
        orch.submit(task_env(run.id))
        orch.run_until_idle(inline=True)
        assert calls == [1, 2, 3, 4, 5]
        orch.submit(task_env(run.id, id="e-2", payload="fatal"))
        orch.run_until_idle(inline=True)
    assert kinds(home, run.id).count("task.dead_lettered") == 2
    assert kinds(home, run.id).count("task.failed") == 6


def test_serve_runs_until_stopped(home: Path) -> None:
    """serve() delivers as envelopes arrive (real clock, worker threads) until stop()."""
    with Orchestrator.open(home, seed=SEED) as orch:
        done = threading.Event()

        @orch.agent("billing", concurrency=4)
        def billing(task: Task, ctx: TaskContext) -> int:
            if task.id == "e-9":
                done.set()
            return task.attempt

        server = threading.Thread(target=orch.serve)
        server.start()
        run = orch.start_run("support")
        for i in range(10):
            orch.submit(task_env(run.id, id=f"e-{i}"))
        assert done.wait(30)
        orch.stop()
        server.join(30)
        assert not server.is_alive()
