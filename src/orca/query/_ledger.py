"""Governed actions inside a trace's skeleton: one compact line per ledger entry.

The skeleton answers "what happened in this turn"; a governed action (an
envelope accepted, a budget exceeded) is part of that answer, so it is shown
where it happened: under the span it names, among that span's children in
time order, else under the trace's root span. A line reads
``⛓ #12 envelope.accepted by planner``; an action that stopped something
(``*.rejected``, ``*.failed``, ``*.expired``, ``budget.exceeded``) is marked
``✖`` and counts as an error line, because that is what a reader hunts for.
The entry number is the ledger id that ``orca ledger prove`` and
``orca replay inspect --from`` take.
"""

from typing import Final

from orca.query._format import clip
from orca.query._labels import Part
from orca.store import LedgerRow, TraceRows

ALARM_SUFFIXES: Final = (".rejected", ".failed", ".expired")
ALARM_KINDS: Final = frozenset({"budget.exceeded"})
MARK: Final = "⛓"
ACTOR_CHARS: Final = 40


def is_alarm(kind: str) -> bool:
    """True for kinds that record a refusal or a failure (shown with ``✖``)."""
    return kind in ALARM_KINDS or kind.endswith(ALARM_SUFFIXES)


def _decision(entry: LedgerRow) -> dict[str, object] | None:
    """A ``policy.decision`` entry's result (action, rule, reasons), when it has one."""
    if entry.kind != "policy.decision" or not isinstance(entry.result, dict):
        return None
    return entry.result


def entry_alarm(entry: LedgerRow) -> bool:
    """:func:`is_alarm` of the kind, or a ``policy.decision`` that denied."""
    decision = _decision(entry)
    return is_alarm(entry.kind) or (decision is not None and decision.get("action") == "deny")


def ledger_parts(entry: LedgerRow) -> list[Part]:
    """``⛓ #12 envelope.accepted by planner`` (``✖`` before an alarming kind or a denial).

    A policy decision also names its action, rule and reason codes
    (``⛓ #7 ✖ policy.decision deny no-shell (destructive-command) by policy``).
    """
    parts: list[Part] = [(MARK, "ledger"), (f"#{entry.id}", "ledger")]
    if entry_alarm(entry):
        parts += [("✖", "error"), (entry.kind, "error")]
    else:
        parts.append((entry.kind, "name"))
    decision = _decision(entry)
    if decision is not None:
        reasons = decision.get("reasons")
        codes = ", ".join(str(r) for r in reasons) if isinstance(reasons, list) else ""
        parts.append((f"{decision.get('action')} {decision.get('rule') or '-'}", ""))
        if codes:
            parts.append((f"({clip(codes, ACTOR_CHARS)})", "dim"))
    if entry.actor:
        parts += [("by", "dim"), (clip(entry.actor, ACTOR_CHARS), "")]
    if entry.erased:
        parts.append(("(payload erased)", "dim"))
    return parts


def place(trace: TraceRows) -> dict[str | None, list[LedgerRow]]:
    """Entries by the span they sit under (None: the top level), each list in time order.

    An entry naming a span of this trace sits under it; any other entry (no
    span, or a span the store does not hold) sits under the root span, or at
    the top level when the trace has no root span.
    """
    if not trace.ledger:
        return {}
    ids = {s.span_id for s in trace.spans}
    root = trace.summary.root_span_id if trace.summary.root_span_id in ids else None
    out: dict[str | None, list[LedgerRow]] = {}
    for entry in sorted(trace.ledger, key=lambda e: (e.ts_ns, e.id)):
        key = entry.span_id if entry.span_id in ids else root
        out.setdefault(key, []).append(entry)
    return out
