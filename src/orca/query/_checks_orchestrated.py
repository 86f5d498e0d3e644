"""Checks for orchestrated runs, over the ledger entries joined to each trace.

The orchestrator records every task decision in the ledger and the store
mirrors those entries into the run's trace, so these checks read the ground
truth rather than spans: a dead letter, a task attempted again and again, a
task that expired undelivered, a lease that keeps running out with no
heartbeat (a worker that dies or hangs), an envelope id reused with other
content. Each is silent on a clean run. Registered with the check registry
(``orca.query.check``) when this module is imported (see ``_builtin``).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Final

from orca.query._registry import CheckScope as Scope
from orca.query._registry import Finding, check
from orca.store import LedgerRow

RETRY_STORM_ATTEMPTS: Final = 3
STUCK_LEASE_EXPIRIES: Final = 2


def _entries(sc: Scope, kind: str) -> Iterator[LedgerRow]:
    for t in sc.traces:
        for row in t.ledger:
            if row.kind == kind and not row.erased:
                yield row


def _finding(message: str, row: LedgerRow) -> Finding:
    return Finding(message, [row.span_id] if row.span_id else [], row.trace_id)


def _arg(row: LedgerRow, key: str) -> Any:
    return row.args.get(key) if isinstance(row.args, dict) else None


def check_dead_letter(sc: Scope) -> list[Finding]:
    return [
        _finding(
            f"task {_arg(r, 'task')} dead-lettered after attempt {_arg(r, 'attempt')}: "
            f"{_arg(r, 'reason') or 'no reason recorded'}",
            r,
        )
        for r in _entries(sc, "task.dead_lettered")
    ]


def check_retry_storm(sc: Scope) -> list[Finding]:
    last: dict[str, LedgerRow] = {}
    for r in _entries(sc, "task.claimed"):
        attempt = _arg(r, "attempt")
        if isinstance(attempt, int) and attempt >= RETRY_STORM_ATTEMPTS:
            last[str(_arg(r, "task"))] = r
    return [
        _finding(f"task {task} attempted {_arg(r, 'attempt')}× (agent {r.actor})", r)
        for task, r in last.items()
    ]


def check_expired_task(sc: Scope) -> list[Finding]:
    return [
        _finding(f"task {_arg(r, 'task')} expired (its TTL passed) before it was done", r)
        for r in _entries(sc, "task.expired")
    ]


def check_stuck_lease(sc: Scope) -> list[Finding]:
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


def check_idempotency_conflict(sc: Scope) -> list[Finding]:
    return [
        _finding(
            f"envelope id {_arg(r, 'id')} reused by {r.actor or '?'} with different content",
            r,
        )
        for r in _entries(sc, "envelope.rejected")
        if isinstance(r.result, dict) and r.result.get("code") == "idempotency-conflict"
    ]


ORCHESTRATED_CHECKS: Final[dict[str, tuple[Callable[[Scope], list[Finding]], str]]] = {
    "dead-letter": (check_dead_letter, "no task dead-lettered"),
    "retry-storm": (check_retry_storm, f"no task attempted {RETRY_STORM_ATTEMPTS}× or more"),
    "expired-task": (check_expired_task, "no task expired undelivered"),
    "stuck-lease": (check_stuck_lease, f"no lease expired {STUCK_LEASE_EXPIRIES}× unheartbeaten"),
    "idempotency-conflict": (check_idempotency_conflict, "no envelope id reused for other content"),
}

for _name, (_fn, _ok) in ORCHESTRATED_CHECKS.items():
    check(_name, ok=_ok)(_fn)
