"""One workflow suite, two transports: the in-process Orchestrator and orca.Client on `orca up`.

Each workflow uses only the API both share and returns what it observed
(acks, rows, exception classes and codes, the run's ledger kinds) with ids
and times left out; the test runs it through both and asserts the same
observations — the promise that agent code switches by changing one line.
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.live import Up, start_up

import orca
from orca.orchestrator import (
    EnvelopeExpired,
    IdempotencyConflict,
    InvalidEnvelope,
    Orchestrator,
    OrchestratorError,
    RunNotFinished,
    RunNotFound,
    RunNotOpen,
    TaskNotFound,
    UnsupportedProtocol,
)
from orca.testing import temp_home

pytestmark = pytest.mark.slow
Api = Any  # an Orchestrator or an orca.Client: the same methods
Seen = list[Any]
Workflow = Callable[[Api, "Agents"], Seen]


class Agents:
    """Agent names unique to one workflow run: a live server is shared by the whole module."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]

    def __call__(self, name: str) -> str:
        return f"{name}-{self.tag}"


def env(run: str, eid: str, agent: Agents, **kw: Any) -> dict[str, Any]:
    return {
        "id": f"{run}/{eid}",
        "run": run,
        "kind": "agent_task",
        "sender": "triage",
        "recipient": agent("billing"),
        "payload": {"order": "A-17"},
        **kw,
    }


def raised(fn: Callable[[], Any]) -> tuple[str, str]:
    """The exception class and code a call raises (the thing both transports must agree on)."""
    try:
        fn()
    except OrchestratorError as exc:
        return type(exc).__name__, exc.code
    raise AssertionError("expected an orchestrator error")


def kinds(api: Api, run: str) -> list[str]:
    return [e.kind for e in api.stream_events(run)]


def wf_hand_off_and_result(api: Api, agent: Agents) -> Seen:
    """Submit → claim → heartbeat → complete → result to the caller → end: the happy path."""
    run = api.start_run("support", metadata={"customer": "alice"})
    ack = api.submit(env(run.id, "e1", agent))
    [task] = api.claim(agent("billing"), lease_ms=30_000)
    until = api.heartbeat(task.id, lease_ms=60_000)
    done = api.complete(task.id, {"refunded": True}, usage={"input_tokens": 12})
    api.submit(env(run.id, "r1", agent, kind="agent_result", sender="billing", recipient=None))
    result = api.fetch_result(run)
    ended = api.end_run(run)
    return [
        run.status,
        run.metadata,
        (ack.duplicate, ack.queued),
        (task.attempt, task.payload, task.envelope_id == ack.envelope_id),
        until > task.lease_until_ms,
        (done.kind, done.result is not None),
        (result.kind, result.payload, result.sender),
        ended.status,
        api.get_run(run.id).status,
        kinds(api, run.id),
        [e.kind for e in api.stream_events(run.id, start_event_id=ack.entry_id, max_events=2)],
    ]


def wf_idempotency(api: Api, agent: Agents) -> Seen:
    """Same id + same content → the original ack (duplicate); other content → conflict."""
    run = api.start_run("support")
    first = api.submit(env(run.id, "e1", agent))
    again = api.submit(env(run.id, "e1", agent))
    conflict = raised(lambda: api.submit(env(run.id, "e1", agent, payload={"order": "B-2"})))
    return [
        (first.duplicate, again.duplicate, again.entry_id == first.entry_id),
        conflict,
        kinds(api, run.id),
    ]


def wf_rejections(api: Api, agent: Agents) -> Seen:
    """Each check refuses with its own class and code, and each refusal is in the ledger."""
    run = api.start_run("support")
    seen = [
        raised(lambda: api.submit(env(run.id, "p", agent, protocol_version=2))),
        raised(lambda: api.submit(env("run-nope", "n", agent))),
        raised(lambda: api.submit(env(run.id, "t", agent, ttl_ms=0))),
        raised(lambda: api.submit(env(run.id, "k", agent, kind="gossip"))),
    ]
    return [seen, kinds(api, run.id)]


def wf_failures_and_dead_letter(api: Api, agent: Agents) -> Seen:
    """A non-retryable failure dead-letters at once; a retryable one waits for its backoff."""
    run = api.start_run("support")
    api.submit(env(run.id, "e1", agent, recipient=agent("fragile")))
    api.submit(env(run.id, "e2", agent, recipient=agent("fragile")))
    first, second = api.claim(agent("fragile"), max_tasks=2)
    api.fail(first.id, "card declined", retryable=False)
    api.fail(second.id, "provider timeout")
    later = api.claim(agent("fragile"))  # the retry's backoff (≥ 1 s by default) has not passed
    return [later, kinds(api, run.id)]


def wf_cancel(api: Api, agent: Agents) -> Seen:
    """Cancelling a run cancels its pending tasks and refuses new envelopes."""
    run = api.start_run("support")
    api.submit(env(run.id, "e1", agent, recipient=agent("slow")))
    cancelled = api.cancel_run(run)
    refused = raised(lambda: api.submit(env(run.id, "e2", agent)))
    return [cancelled.status, refused, api.claim(agent("slow")), kinds(api, run.id)]


def wf_unknown_things(api: Api, agent: Agents) -> Seen:
    """Unknown runs and tasks, and a result asked for too early, raise the same classes."""
    run = api.start_run("support")
    return [
        raised(lambda: api.get_run("run-nope")),
        raised(lambda: api.complete("no-such-task", {})),
        raised(lambda: api.heartbeat("no-such-task")),
        raised(lambda: api.fetch_result(run)),
        raised(lambda: api.end_run(run, "exploded")),
    ]


WORKFLOWS = [
    wf_hand_off_and_result,
    wf_idempotency,
    wf_rejections,
    wf_failures_and_dead_letter,
    wf_cancel,
    wf_unknown_things,
]


@pytest.fixture(scope="module")
def live() -> Iterator[Up]:
    """One `orca up` for the module (workflows use their own runs and agent names)."""
    with temp_home() as home:
        server = start_up(home)
        try:
            yield server
        finally:
            code, out = server.stop()
            assert code == 0, out


def run_both(wf: Workflow, live: Up, home: Path) -> tuple[Seen, Seen]:
    with Orchestrator.open(home) as orch:
        local = wf(orch, Agents())
    with orca.Client(live.url) as client:
        remote = wf(client, Agents())
    return local, remote


@pytest.mark.parametrize("wf", WORKFLOWS, ids=lambda f: f.__name__)
def test_same_results_in_process_and_over_http(wf: Workflow, live: Up, home: Path) -> None:
    """The workflow observes the same things through Orchestrator and through orca.Client."""
    local, remote = run_both(wf, live, home)
    assert remote == local


def test_expected_observations(live: Up, home: Path) -> None:
    """The shared observations are the right ones (not merely equal): spot checks."""
    with orca.Client(live.url) as client:
        happy = wf_hand_off_and_result(client, Agents())
        rejections = wf_rejections(client, Agents())
        unknown = wf_unknown_things(client, Agents())
    assert happy[-2] == [
        "run.started",
        "envelope.accepted",
        "task.claimed",
        "task.heartbeat",
        "task.completed",
        "envelope.accepted",
        "run.ended",
    ]
    assert [code for _, code in rejections[0]] == [
        UnsupportedProtocol.code,
        RunNotOpen.code,
        EnvelopeExpired.code,
        InvalidEnvelope.code,
    ]
    assert [name for name, _ in unknown] == [
        RunNotFound.__name__,
        TaskNotFound.__name__,
        TaskNotFound.__name__,
        RunNotFinished.__name__,
        "InvalidRequest",
    ]
    assert IdempotencyConflict.code == "idempotency-conflict"
