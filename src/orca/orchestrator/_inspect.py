"""Reading runs back without the orchestrator: the state folded from the ledger, read-only.

``orca runs`` and the server's read side use this while an orchestrator may be
running in another process: it takes no lock (the ledger has one appender;
readers see whole signed batches) and writes nothing.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orca.ledger import Entry, ledger_path
from orca.orchestrator._errors import RunNotFound
from orca.orchestrator._events import read_run_entries
from orca.orchestrator._snapshot import replay
from orca.orchestrator._state import RunState, State, TaskState


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of ``orca runs``."""

    id: str
    trace_id: str
    workflow: str
    status: str
    started_ms: int
    ended_ms: int | None
    tasks: int
    completed: int
    dead_lettered: int
    expired: int
    cancelled: int
    unfinished: int
    attempts: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def duration_ms(self) -> int | None:
        return None if self.ended_ms is None else self.ended_ms - self.started_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in self.__dataclass_fields__},
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True, slots=True)
class AttemptRow:
    attempt: int
    agent: str
    claimed_ms: int
    ended_ms: int | None
    outcome: str | None
    heartbeats: int


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task of ``orca runs show``: its attempts and how it ended."""

    id: str
    sender: str
    recipient: str
    status: str
    accepted_ms: int
    expires_ms: int
    ended_ms: int | None
    error: str | None
    result: Any
    usage: dict[str, Any] | None
    attempts: list[AttemptRow]

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "attempts"}
        out["attempts"] = [
            {k: getattr(a, k) for k in a.__dataclass_fields__} for a in self.attempts
        ]
        return out


@dataclass(frozen=True, slots=True)
class RunDetail:
    """``orca runs show``: the run, its tasks, its dead letters and rejections, its result."""

    summary: RunSummary
    tasks: list[TaskRow]
    rejections: list[dict[str, Any]]
    result: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.summary.to_dict(),
            "tasks": [t.to_dict() for t in self.tasks],
            "dead_letters": [t.to_dict() for t in self.tasks if t.status == "dead_lettered"],
            "rejections": self.rejections,
            "result": self.result,
        }


def read_state(home: Path) -> State:
    """The orchestrator's state as the ledger (and a matching snapshot) say it is now."""
    return replay(home, ledger_path(home)).state


def _summary(st: State, r: RunState) -> RunSummary:
    tasks = [st.tasks[t] for t in r.tasks]
    count = {s: sum(1 for t in tasks if t.status == s) for s in _STATUSES}
    usage = [t.usage or {} for t in tasks]
    return RunSummary(
        id=r.id,
        trace_id=r.trace,
        workflow=r.workflow,
        status=r.status,
        started_ms=r.started_ms,
        ended_ms=r.ended_ms,
        tasks=len(tasks),
        completed=count["completed"],
        dead_lettered=count["dead_lettered"],
        expired=count["expired"],
        cancelled=count["cancelled"],
        unfinished=sum(1 for t in tasks if not t.terminal),
        attempts=sum(len(t.attempts) for t in tasks),
        input_tokens=sum(int(u.get("input_tokens") or 0) for u in usage),
        output_tokens=sum(int(u.get("output_tokens") or 0) for u in usage),
        cost_usd=round(sum(float(u.get("cost_usd") or 0) for u in usage), 6),
    )


_STATUSES = ("completed", "dead_lettered", "expired", "cancelled")


def list_runs(home: Path, *, limit: int | None = None) -> list[RunSummary]:
    """Every run, newest first (at most ``limit``)."""
    st = read_state(home)
    runs = sorted(st.runs.values(), key=lambda r: (r.started_ms, r.id), reverse=True)
    return [_summary(st, r) for r in runs[:limit]]


def find_run(st: State, ref: str) -> RunState:
    """A run by id, unique prefix (with or without ``run-``), or ``last``."""
    if ref == "last":
        if not st.runs:
            raise RunNotFound("there are no runs yet")
        return max(st.runs.values(), key=lambda r: (r.started_ms, r.id))
    if ref in st.runs:
        return st.runs[ref]
    hits = [r for k, r in st.runs.items() if k.startswith(ref) or k.startswith(f"run-{ref}")]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise RunNotFound(f"{len(hits)} runs start with {ref!r}; give more of the id")
    raise RunNotFound(f"no run {ref!r}; `orca runs` lists them")


def task_row(t: TaskState) -> TaskRow:
    return TaskRow(
        id=t.id,
        sender=str(t.envelope.get("sender")),
        recipient=t.recipient,
        status=t.status,
        accepted_ms=t.accepted_ms,
        expires_ms=t.expires_ms,
        ended_ms=t.ended_ms,
        error=t.error,
        result=t.result,
        usage=t.usage,
        attempts=[
            AttemptRow(a.attempt, a.agent, a.claimed_ms, a.ended_ms, a.outcome, a.heartbeats)
            for a in t.attempts
        ],
    )


def show_run(home: Path, ref: str) -> RunDetail:
    """The run ``ref`` with its tasks, attempts, dead letters, rejections and result."""
    st = read_state(home)
    r = find_run(st, ref)
    rejections = [
        {"entry": e.id, "envelope": (e.args or {}).get("id"), **(e.result or {})}
        for e in read_run_entries(ledger_path(home), r.id)
        if e.kind == "envelope.rejected"
    ]
    result = st.results.get(r.result_envelope) if r.result_envelope else None
    return RunDetail(_summary(st, r), [task_row(st.tasks[t]) for t in r.tasks], rejections, result)


def run_events(
    home: Path,
    ref: str,
    *,
    start_event_id: int | None = None,
    since: int | None = None,
    max_events: int | None = None,
    follow: bool = False,
    poll_s: float = 0.2,
) -> tuple[str, Iterator[Entry]]:
    """(run id, iterator of its entries); with ``follow`` it ends after ``run.ended``."""
    run = find_run(read_state(home), ref)
    seen_end = [run.status != "open"]

    def ended() -> bool:
        return seen_end[0]

    def entries() -> Iterator[Entry]:
        for e in read_run_entries(
            ledger_path(home),
            run.id,
            start_event_id=start_event_id,
            since=since,
            max_events=max_events,
            follow=follow,
            ended=ended,
            poll_s=poll_s,
        ):
            if e.kind == "run.ended":
                seen_end[0] = True
            yield e

    return run.id, entries()
