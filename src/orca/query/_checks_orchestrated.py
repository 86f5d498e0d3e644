"""Checks for orchestrated runs, over the ledger entries joined to each trace.

The orchestrator records every task decision in the ledger and the store
mirrors those entries into the run's trace, so these checks read the ground
truth rather than spans: a dead letter, a task attempted again and again, a
task that expired undelivered, a lease that keeps running out with no
heartbeat (a worker that dies or hangs), an envelope id reused with other
content. Each is silent on a clean run.
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

from orca.query._format import short_id
from orca.query._registry import CheckScope, Finding, check
from orca.store import LedgerRow

RETRY_STORM_ATTEMPTS: Final = 3
STUCK_LEASE_EXPIRIES: Final = 2


def _entries(sc: CheckScope, kind: str) -> Iterator[LedgerRow]:
    for row in sc.ledger:
        if row.kind == kind and not row.erased:
            yield row


def _finding(message: str, row: LedgerRow) -> Finding:
    spans = [row.span_id] if row.span_id else []
    nxt = f"orca runs show {row.run}" if row.run else None
    if nxt is None and spans:
        nxt = f"orca span {short_id(spans[0])}"
    return Finding(message, spans, row.trace_id, nxt)


def _arg(row: LedgerRow, key: str) -> Any:
    return row.args.get(key) if isinstance(row.args, dict) else None


@check(
    "dead-letter",
    ok="no task dead-lettered",
    about="an orchestrated task ran out of attempts (or failed for good) and was dead-lettered",
)
def check_dead_letter(sc: CheckScope) -> list[Finding]:
    return [
        _finding(
            f"task {_arg(r, 'task')} dead-lettered after attempt {_arg(r, 'attempt')}: "
            f"{_arg(r, 'reason') or 'no reason recorded'}",
            r,
        )
        for r in _entries(sc, "task.dead_lettered")
    ]


@check(
    "retry-storm",
    ok=f"no task attempted {RETRY_STORM_ATTEMPTS}× or more",
    about=f"an orchestrated task was delivered {RETRY_STORM_ATTEMPTS} times or more",
)
def check_retry_storm(sc: CheckScope) -> list[Finding]:
    last: dict[str, LedgerRow] = {}
    for r in _entries(sc, "task.claimed"):
        attempt = _arg(r, "attempt")
        if isinstance(attempt, int) and attempt >= RETRY_STORM_ATTEMPTS:
            last[str(_arg(r, "task"))] = r
    return [
        _finding(f"task {task} attempted {_arg(r, 'attempt')}× (agent {r.actor})", r)
        for task, r in last.items()
    ]


@check(
    "expired-task",
    ok="no task expired undelivered",
    about="an orchestrated task's TTL passed before it was done",
)
def check_expired_task(sc: CheckScope) -> list[Finding]:
    return [
        _finding(f"task {_arg(r, 'task')} expired (its TTL passed) before it was done", r)
        for r in _entries(sc, "task.expired")
    ]


@check(
    "stuck-lease",
    ok=f"no lease expired {STUCK_LEASE_EXPIRIES}× unheartbeaten",
    about="a task's lease ran out twice or more with no heartbeat: a worker dying or hung",
)
def check_stuck_lease(sc: CheckScope) -> list[Finding]:
    silent: Counter[str] = Counter()
    rows: dict[str, LedgerRow] = {}
    for r in _entries(sc, "task.lease_expired"):
        if not _arg(r, "heartbeats"):
            task = str(_arg(r, "task"))
            silent[task] += 1
            rows[task] = r
    return [
        _finding(
            f"task {task}: lease expired {n}× with no heartbeat (worker dying or hung)", rows[task]
        )
        for task, n in silent.items()
        if n >= STUCK_LEASE_EXPIRIES
    ]


@check(
    "idempotency-conflict",
    ok="no envelope id reused for other content",
    about="an envelope id (the idempotency key) was reused with different content",
)
def check_idempotency_conflict(sc: CheckScope) -> list[Finding]:
    return [
        _finding(
            f"envelope id {_arg(r, 'id')} reused by {r.actor or '?'} with different content", r
        )
        for r in _entries(sc, "envelope.rejected")
        if isinstance(r.result, dict) and r.result.get("code") == "idempotency-conflict"
    ]
