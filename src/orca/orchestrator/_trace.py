"""The record of a run in its trace: the run's root span and the queue spans of each envelope.

Per envelope: ``queue.enqueue`` (child of the sender's span, written when it
is accepted), then per delivery ``queue.dequeue`` (instant) and
``queue.deliver`` (the handler's span, child of the sender's span, linked to
the enqueue span: the causal edge from sender to receiver). The attributes
are the ones the existing checks read: ``messaging.message.id`` (so a
redelivery shows as ``duplicate-delivery``) and the target conversation on
enqueue vs the conversation on deliver (``misrouted``); a task's conversation
is ``<run>/<agent>``.

Spans that outlive the process (a run's root, a remote worker's delivery)
are reached again through ``Recorder.resume``. Recording never raises: the
journal sink is fail-safe.
"""

from orca.capture import Recorder, Span

ORCH_COMPONENT = "orchestrator"


def conversation(run: str, agent: str) -> str:
    return f"{run}/{agent}"


class RunTracer:
    """Writes the spans of orchestrated runs through one recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._log = recorder.logger(ORCH_COMPONENT)

    def start_run(self, workflow: str) -> Span:
        return self._log.span(
            "turn",
            attrs={"orca.run.workflow": workflow, "gen_ai.operation.name": "invoke_workflow"},
        )

    def handle(self, trace: str, span: str, component: str = ORCH_COMPONENT) -> Span:
        return self.recorder.resume(component, trace, span)

    def end_run(self, trace: str, root: str, run: str, status: str) -> None:
        span = self.handle(trace, root)
        span.end(attrs={"orca.run.id": run, "orca.run.status": status}, status=_status(status))

    def enqueue(
        self,
        trace: str,
        parent: str,
        envelope_id: str,
        run: str,
        sender: str,
        recipient: str | None,
    ) -> str:
        """Open and close the enqueue span; return its id."""
        attrs: dict[str, str] = {
            "messaging.message.id": envelope_id,
            "messaging.operation.type": "send",
            "orca.run.id": run,
            "orca.envelope.sender": sender,
        }
        if recipient is not None:
            attrs["orca.queue.target_conversation"] = conversation(run, recipient)
            attrs["messaging.destination.name"] = recipient
        span = self.recorder.resume(sender, trace, parent).child("queue.enqueue", attrs=attrs)
        span.end()
        return span.span_id

    def deliver(
        self,
        trace: str,
        parent: str,
        enqueue_span: str | None,
        envelope_id: str,
        run: str,
        agent: str,
        attempt: int,
    ) -> Span:
        """The dequeue span (closed at once) and the delivery span (left open, linked)."""
        sender = self.recorder.resume(agent, trace, parent)
        sender.child(
            "queue.dequeue",
            attrs={"messaging.message.id": envelope_id, "orca.task.attempt": attempt},
        ).end()
        span = sender.child(
            "queue.deliver",
            attrs={
                "messaging.message.id": envelope_id,
                "gen_ai.conversation.id": conversation(run, agent),
                "gen_ai.agent.name": agent,
                "orca.task.attempt": attempt,
            },
        )
        if enqueue_span is not None:
            span.add_link(_Ref(trace, enqueue_span), reason="envelope")
        return span

    def end_delivery(
        self, trace: str, span: str, agent: str, outcome: str, error: str | None = None
    ) -> None:
        handle = self.recorder.resume(agent, trace, span, "queue.deliver")
        attrs = {"orca.task.outcome": outcome}
        if error is not None:
            attrs["error.type"] = "TaskFailed"
            attrs["exception.message"] = error
        handle.end(attrs=attrs, status="ok" if outcome == "completed" else "error")


def _status(run_status: str) -> str:
    return "ok" if run_status == "ok" else "error"


class _Ref:
    __slots__ = ("span_id", "trace_id")

    def __init__(self, trace_id: str, span_id: str) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
