"""Submitting envelopes: the checks in their order, each rejection recorded, then acceptance.

protocol → run open → TTL → idempotency → policy → budget → ledger append →
queued for the recipient. A rejection is itself a ledger entry
(``envelope.rejected``, naming the code and reason, never the payload) and is
durable before the exception is raised.
"""

from collections.abc import Mapping
from typing import Any

from orca.ledger import Action
from orca.orchestrator._engine import Engine, run_row
from orca.orchestrator._envelope import SUPPORTED_PROTOCOLS, Ack, Envelope, coerce_envelope
from orca.orchestrator._errors import (
    BudgetExceeded,
    EnvelopeExpired,
    EnvelopeRejected,
    IdempotencyConflict,
    InvalidEnvelope,
    PolicyDenied,
    RunNotOpen,
    UnsupportedProtocol,
)
from orca.orchestrator._hooks import BudgetDecision, PolicyDecision
from orca.orchestrator._model import Run


class Submitter(Engine):
    """The envelope half of the orchestrator's API."""

    def submit(self, envelope: Envelope | Mapping[str, Any]) -> Ack:
        """Accept an envelope (durably) or raise the :class:`EnvelopeRejected` saying why.

        Checks, in order: protocol → run open → TTL → idempotency → policy →
        budget; then the ledger append, then it is queued for its recipient.
        Every rejection is recorded (``envelope.rejected``) before it is raised.
        """
        try:
            env = coerce_envelope(envelope)
        except InvalidEnvelope as exc:
            raw = envelope if isinstance(envelope, Mapping) else {}
            raise self._reject(InvalidEnvelope, str(exc), raw) from None
        with self._lock:
            self._usable()
            now = self.clock.now_ms()
            if env.protocol_version not in SUPPORTED_PROTOCOLS:
                raise self._reject_locked(
                    UnsupportedProtocol,
                    f"protocol_version {env.protocol_version} is not supported "
                    f"(this ORCA speaks {sorted(SUPPORTED_PROTOCOLS)})",
                    env,
                    now,
                )
            rs = self._state.runs.get(env.run)
            if rs is None or rs.status != "open":
                why = "does not exist" if rs is None else f"has ended ({rs.status})"
                raise self._reject_locked(RunNotOpen, f"run {env.run} {why}", env, now)
            created = env.created_ms if env.created_ms is not None else now
            expires = created + env.ttl_ms
            if env.ttl_ms <= 0 or expires <= now:
                raise self._reject_locked(
                    EnvelopeExpired, f"envelope {env.id} expired at {expires} (now {now})", env, now
                )
            content_hash = env.content_hash()
            known = self._state.known.get(env.id)
            if known is not None:
                if known.content_hash != content_hash:
                    raise self._reject_locked(
                        IdempotencyConflict,
                        f"envelope id {env.id} was accepted with other content; "
                        "use a new id for a new envelope",
                        env,
                        now,
                    )
                while known.ack.entry_id < 0 and self._broken is None:
                    self._cond.wait()  # the original is still on its way to disk
                self._usable()
                a = known.ack
                return Ack(
                    a.envelope_id, a.run, a.entry_id, a.accepted_ms, a.expires_ms, a.queued, True
                )
            run = run_row(rs)
            decision = self._ask_policy(env, run)
            if decision.audit is not None:  # an intervention: a policy.check span in the trace
                self._policy_span(rs.trace, env.parent or rs.root_span, decision.audit)
            if not decision.allowed:
                raise self._reject_locked(
                    PolicyDenied,
                    decision.reason or "denied by policy",
                    env,
                    now,
                    rule=decision.rule,
                    extra=("policy.decision", decision.audit),
                )
            if decision.payload_modified:
                env = Envelope(**{**_fields(env), "payload": decision.payload})
            budget = self._ask_budget(env, run)
            if not budget.allowed:
                raise self._reject_locked(
                    BudgetExceeded,
                    budget.reason or "over budget",
                    env,
                    now,
                    extra=("budget.exceeded", budget.audit),
                )
            record = {**env.content(), "created_ms": created, **self.payloads.pack(env.payload)}
            parent = env.parent or rs.root_span
            span = self._tracer.enqueue(rs.trace, parent, env.id, rs.id, env.sender, env.recipient)
            meta: dict[str, Any] = {"content_hash": content_hash, "expires_ms": expires}
            if decision.rule or decision.flagged or decision.payload_modified:
                meta["policy"] = {
                    "rule": decision.rule,
                    "flagged": decision.flagged,
                    "modified": decision.payload_modified,
                }
            if budget.reservation is not None:
                meta["reservation"] = budget.reservation.to_dict()
            actions = []
            if decision.audit is not None:  # an intervention: its own entry, rule and codes only
                actions.append(
                    self._action(
                        "policy.decision",
                        rs,
                        span=span,
                        actor="policy",
                        args={"envelope": env.id},
                        result=decision.audit,
                        now=now,
                    )
                )
            accepted_at = len(actions)
            actions += [
                self._action(
                    "envelope.accepted",
                    rs,
                    span=span,
                    actor=env.sender,
                    args=record,
                    meta=meta,
                    now=now,
                )
            ]
            for w in budget.warnings:
                actions.append(
                    self._action(
                        "budget.warning",
                        rs,
                        span=span,
                        args={"envelope": env.id},
                        result={"message": str(w)},
                        now=now,
                    )
                )
            tickets = self._queue(actions)
        entry = self._wait(tickets)[accepted_at]
        return Ack(env.id, env.run, entry.id, now, expires, env.queued)

    def _policy_span(self, trace: str, parent: str, audit: Any) -> None:
        """``policy.check`` with ``orca.policy.decision``/``orca.policy.rule`` (never the payload);
        recording never changes the decision."""
        try:
            attrs = {
                "orca.policy.decision": str(audit.get("action")),
                "orca.policy.rule": str(audit.get("rule") or ""),
                "orca.policy.phase": str(audit.get("phase")),
                "orca.policy.reasons": ",".join(str(r) for r in audit.get("reasons") or ()),
            }
            span = self._tracer.handle(trace, parent, "policy").child("policy.check", attrs)
            span.end(status="error" if audit.get("action") == "deny" else None)
        except Exception:
            self.hook_errors += 1

    def _ask_policy(self, env: Envelope, run: Run) -> PolicyDecision:
        try:
            return self.policy.check_envelope(env, run)
        except Exception as exc:  # fail closed
            return PolicyDecision(
                allowed=False, reason=f"policy hook failed: {type(exc).__name__}: {exc}"
            )

    def _ask_budget(self, env: Envelope, run: Run) -> BudgetDecision:
        try:
            return self.budget.reserve(env, run)
        except Exception as exc:  # fail closed
            return BudgetDecision(
                allowed=False, reason=f"budget hook failed: {type(exc).__name__}: {exc}"
            )

    def _reject(
        self, cls: type[EnvelopeRejected], reason: str, raw: Mapping[str, Any]
    ) -> EnvelopeRejected:
        with self._lock:
            self._usable()
            return self._reject_locked(cls, reason, raw, self.clock.now_ms())

    def _reject_locked(
        self,
        cls: type[EnvelopeRejected],
        reason: str,
        env: Envelope | Mapping[str, Any],
        now: int,
        *,
        rule: str | None = None,
        extra: tuple[str, Any] | None = None,
    ) -> EnvelopeRejected:
        """Record the rejection (durably, releasing the lock meanwhile) and return the exception."""
        get = (lambda k: getattr(env, k, None)) if isinstance(env, Envelope) else env.get
        run_id = get("run")
        rs = self._state.runs.get(run_id) if isinstance(run_id, str) else None

        def s(v: Any) -> str | None:
            return v[:512] if isinstance(v, str) else None

        action = Action(
            kind="envelope.rejected",
            actor=s(get("sender")),
            run=s(run_id),
            trace=rs.trace if rs else None,
            span=rs.root_span if rs else None,
            args={"id": s(get("id")), "kind": s(get("kind")), "recipient": s(get("recipient"))},
            result={"code": cls.code, "reason": reason, **({"rule": rule} if rule else {})},
            meta={"at_ms": now},
        )
        actions = [action]
        if extra is not None and extra[1] is not None:  # the governance entry beside the rejection
            actions.append(
                Action(
                    kind=extra[0],
                    actor="policy" if extra[0] == "policy.decision" else "budget",
                    run=action.run,
                    trace=action.trace,
                    span=action.span,
                    args={"envelope": s(get("id"))},
                    result=extra[1],
                    meta={"at_ms": now},
                )
            )
        tickets = self._queue(actions)
        self._lock.release()
        try:
            entry = self._wait(tickets)[0]
        finally:
            self._lock.acquire()
        return cls(f"{cls.code}: {reason}", entry_id=entry.id)


def _fields(env: Envelope) -> dict[str, Any]:
    return {k: getattr(env, k) for k in Envelope.__dataclass_fields__}
