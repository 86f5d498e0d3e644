"""Record OpenAI Agents SDK runs as ORCA spans, incrementally, through the journal.

One line::

    agents.add_trace_processor(OrcaTracingProcessor(recorder.logger("agents")))

The SDK tells its trace processors when each trace and span starts and ends;
this processor writes a span-open record at the start and a span-close record
at the end, so a span open in the SDK is open in ORCA, and a process killed
mid-run leaves exactly the spans it was inside as unfinished (the collector
adds the crash span). The mapping, with GenAI attribute names:

============================  =====================================================
SDK                           ORCA span
============================  =====================================================
trace (a workflow run)        ``turn`` (the root; ``gen_ai.conversation.id`` from
                              the trace's ``group_id``)
task span (the Runner run)    folded into the ``turn`` (its usage lands there)
agent span                    ``agent`` (``invoke_agent``, ``gen_ai.agent.name``)
turn span (one agent loop)    ``agents.turn``
generation / response span    ``step`` (``chat``, model, usage, the tool calls it
                              asked for in ``orca.tool_calls.requested``)
function span                 ``tool-call`` under the ``step`` that asked for it
                              (``gen_ai.tool.name``, ``gen_ai.tool.call.id``), linked
                              ``answers`` to the provider request when recorded
handoff span                  ``handoff`` under the ``step`` that asked for it,
                              linked (reason ``handoff``) to the next ``agent`` span
guardrail span                ``guardrail`` (``orca.guardrail.triggered``)
anything else                 ``agents.<type>`` (custom spans: their own name)
============================  =====================================================

When the model client is also instrumented (``orca.integrations.openai`` or
``.anthropic``), its ``provider.request`` span nests under the ``step`` (the
processor names the step as the parent for requests made while it is open),
and the step then leaves the tokens to it: its own usage goes under
``orca.agents.usage.*`` so nothing is counted twice.

Like all recording, this never raises into the SDK: a failure is counted
(``errors``) and warned about once.
"""

import logging
import threading
from collections import deque
from contextvars import Token
from typing import Any, Final, NamedTuple

from orca.capture import Logger, Span, tool_requester
from orca.integrations._agents_data import calls_of, get, plain, usage_attrs
from orca.integrations._instrument import InstrumentError
from orca.integrations._overrides import Overrides, pop_overrides, push_overrides

try:
    from agents.tracing import TracingProcessor
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "orca.integrations.openai_agents needs the OpenAI Agents SDK: pip install 'orca[agents]'"
    ) from exc

__all__ = ["OrcaTracingProcessor"]

_log = logging.getLogger("orca.integrations")
HANDOFF: Final = "handoff"
_NAMES: Final = {
    "agent": "agent",
    "turn": "agents.turn",
    "generation": "step",
    "response": "step",
    "function": "tool-call",
    "handoff": "handoff",
    "guardrail": "guardrail",
    "mcp_tools": "mcp.list_tools",
}


class _Call(NamedTuple):
    """A tool call a step asked for, waiting for the span that runs it."""

    call_id: str
    name: str
    step: Span


class _Open(NamedTuple):
    span: Span
    kind: str  # the SDK span type
    sdk_parent: str | None
    token: Token[Overrides] | None  # the request-parent override of an open step
    seen: list[Span] | None  # provider.request spans recorded under an open step


class _Handoff(NamedTuple):
    span: Span
    to_agent: str


class OrcaTracingProcessor(TracingProcessor):
    """An Agents SDK trace processor that records into ORCA (see the module docstring).

    ``logger`` makes one ORCA trace per SDK trace; with ``parent`` instead,
    each SDK trace's ``turn`` becomes a child of that span. ``record_data``
    False keeps inputs and outputs (prompts, tool arguments and results) out
    of the record, leaving names, ids, timing, usage and status.
    """

    def __init__(
        self,
        logger: Logger | None = None,
        *,
        parent: Span | None = None,
        conversation_id: str | None = None,
        record_data: bool = True,
    ) -> None:
        if logger is None and parent is None:
            raise InstrumentError(
                "OrcaTracingProcessor needs somewhere to record: pass a logger "
                "(recorder.logger('agents')) or a parent span"
            )
        self._logger = logger
        self._parent = parent
        self._conversation = conversation_id
        self._record_data = record_data
        self._lock = threading.Lock()
        self._traces: dict[str, Span] = {}
        self._spans: dict[str, _Open] = {}
        self._calls: dict[str, deque[_Call]] = {}  # SDK parent id → calls waiting to run
        self._steps: dict[str, Span] = {}  # SDK parent id → its latest step
        self._handoffs: dict[str, _Handoff] = {}  # SDK trace id → handoff awaiting its agent
        self.errors = 0
        self._warned = False

    # --- the SDK's interface ---------------------------------------------------------
    def on_trace_start(self, trace: Any) -> None:
        self._safely(self._trace_start, trace)

    def on_trace_end(self, trace: Any) -> None:
        self._safely(self._trace_end, trace)

    def on_span_start(self, span: Any) -> None:
        self._safely(self._span_start, span)

    def on_span_end(self, span: Any) -> None:
        self._safely(self._span_end, span)

    def shutdown(self) -> None:
        """Nothing to flush: every record went to the journal when it happened."""

    def force_flush(self) -> None:
        """Nothing to flush: every record went to the journal when it happened."""

    # --- the work --------------------------------------------------------------------
    def _safely(self, fn: Any, arg: Any) -> None:
        try:
            fn(arg)
        except Exception as exc:  # recording never breaks the agent run
            self.errors += 1
            if not self._warned:
                self._warned = True
                _log.warning("orca: could not record an Agents SDK event: %r", exc)

    def _trace_start(self, trace: Any) -> Span:
        trace_id = str(trace.trace_id)
        with self._lock:
            known = self._traces.get(trace_id)
            if known is not None:
                return known
        attrs: dict[str, object] = {
            "orca.agents.workflow": str(getattr(trace, "name", "") or "Agent workflow"),
            "orca.agents.trace_id": trace_id,
        }
        group = getattr(trace, "group_id", None) or self._conversation
        if group:
            attrs["gen_ai.conversation.id"] = str(group)
        if self._parent is not None:
            root = self._parent.child("turn", attrs)
        else:
            assert self._logger is not None  # one of the two, checked in __init__
            root = self._logger.span("turn", attrs)
        with self._lock:
            self._traces[trace_id] = root
        return root

    def _trace_end(self, trace: Any) -> None:
        trace_id = str(trace.trace_id)
        with self._lock:
            root = self._traces.pop(trace_id, None)
            self._handoffs.pop(trace_id, None)
        if root is not None:
            root.end()

    def _parent_of(self, span: Any) -> Span:
        sdk_parent = span.parent_id
        with self._lock:
            opened = self._spans.get(sdk_parent) if sdk_parent else None
            root = self._traces.get(str(span.trace_id))
        if opened is not None:
            return opened.span
        if root is not None:
            return root
        return self._trace_start(_TraceRef(str(span.trace_id)))

    def _span_start(self, span: Any) -> None:
        data = span.span_data
        kind = str(data.type)
        if kind == "task":  # the Runner run: one per trace, the turn stands for it
            with self._lock:
                root = self._traces.get(str(span.trace_id))
            if root is not None:
                with self._lock:
                    self._spans[span.span_id] = _Open(root, kind, span.parent_id, None, None)
                return
        parent = self._parent_of(span)
        attrs: dict[str, object] = {"orca.agents.span_id": str(span.span_id)}
        name = _NAMES.get(kind, f"agents.{kind}")
        if kind == "agent":
            attrs["gen_ai.operation.name"] = "invoke_agent"
            attrs["gen_ai.agent.name"] = str(data.name)
        elif kind == "turn":
            attrs["orca.agents.turn"] = int(getattr(data, "turn", 0) or 0)
            attrs["gen_ai.agent.name"] = str(getattr(data, "agent_name", "") or "")
        elif kind in ("generation", "response"):
            attrs["gen_ai.operation.name"] = "chat"
            model = getattr(data, "model", None)
            if model:
                attrs["gen_ai.request.model"] = str(model)
        elif kind == "function":
            attrs["gen_ai.operation.name"] = "execute_tool"
            attrs["gen_ai.tool.name"] = str(data.name)
        elif kind == "guardrail":
            attrs["orca.guardrail.name"] = str(data.name)
        elif kind == "custom":
            name = str(getattr(data, "name", "") or "agents.custom")
        call: _Call | None = None
        if kind in ("function", "handoff"):
            call = self._claim(span.parent_id, kind, getattr(data, "name", None))
            if call is not None:
                parent = call.step
                attrs["gen_ai.tool.call.id"] = call.call_id
                if kind == "handoff":
                    attrs["gen_ai.tool.name"] = call.name
            else:
                with self._lock:
                    step = self._steps.get(span.parent_id or "")
                parent = step or parent
        if kind == HANDOFF and getattr(data, "from_agent", None):
            attrs["orca.handoff.from"] = str(data.from_agent)
        opened = parent.child(name, attrs)
        if call is not None:
            asked = tool_requester(opened, call.call_id)
            if asked is not None:
                link = {"gen_ai.tool.call.id": call.call_id}
                opened.add_link(asked, reason="answers", attrs=link)
        token: Token[Overrides] | None = None
        seen: list[Span] | None = None
        if kind in ("generation", "response"):
            seen = []
            token = push_overrides(parent=opened, seen=seen)
            with self._lock:
                self._steps[span.parent_id or ""] = opened
        if kind == "agent":
            self._link_handoff(str(span.trace_id), str(data.name), opened)
        with self._lock:
            self._spans[span.span_id] = _Open(opened, kind, span.parent_id, token, seen)

    def _claim(self, sdk_parent: str | None, kind: str, tool: object) -> _Call | None:
        """The waiting call this function or handoff span runs (by tool name; oldest first)."""
        with self._lock:
            waiting = self._calls.get(sdk_parent or "")
            if not waiting:
                return None
            for call in waiting:
                if kind == "function" and call.name == tool:
                    break
                if kind == "handoff" and call.name.startswith("transfer_to_"):
                    break
            else:
                if kind != "handoff" or len(waiting) != 1:
                    return None
                call = waiting[0]
            waiting.remove(call)
            return call

    def _link_handoff(self, trace_id: str, agent: str, opened: Span) -> None:
        with self._lock:
            pending = self._handoffs.get(trace_id)
            if pending is None or pending.to_agent != agent:
                return
            del self._handoffs[trace_id]
        pending.span.add_link(opened, reason=HANDOFF, attrs={"gen_ai.agent.name": agent})

    def _span_end(self, span: Any) -> None:
        with self._lock:
            opened = self._spans.pop(span.span_id, None)
            self._calls.pop(span.span_id, None)  # its children are done: forget their calls
            self._steps.pop(span.span_id, None)
        if opened is None:
            return
        data = span.span_data
        kind = opened.kind
        attrs: dict[str, object] = {}
        body: object = None
        if opened.token is not None:
            try:
                pop_overrides(opened.token)
            except ValueError:  # ended in another context than it started: nothing to undo
                pass
        usage = getattr(data, "usage", None)
        if kind == "task":
            opened.span.set_attrs(usage_attrs(usage, "orca.agents.usage"))
            return
        if kind in ("generation", "response"):
            if kind == "response" and usage is None:
                usage = get(get(data, "response"), "usage")
            counted = bool(opened.seen)  # a provider.request child carries the tokens
            attrs.update(usage_attrs(usage, "orca.agents.usage" if counted else "gen_ai.usage"))
            if counted:
                attrs["orca.agents.provider_requests"] = len(opened.seen or ())
            calls = calls_of(kind, data)
            if calls:
                attrs["orca.tool_calls.requested"] = ",".join(c for c, _ in calls)
                with self._lock:
                    waiting = self._calls.setdefault(opened.sdk_parent or "", deque())
                    waiting.extend(_Call(c, n, opened.span) for c, n in calls)
            if self._record_data:
                raw = getattr(data, "output", None) or get(get(data, "response"), "output")
                out = plain(raw)
                body = {"output": out} if counted else {"input": plain(data.input), "output": out}
        elif kind == "function":
            if self._record_data:
                body = {"input": data.input, "output": plain(data.output)}
        elif kind == HANDOFF:
            to_agent = getattr(data, "to_agent", None)
            if to_agent:
                attrs["orca.handoff.to"] = str(to_agent)
                with self._lock:
                    self._handoffs[str(span.trace_id)] = _Handoff(opened.span, str(to_agent))
        elif kind == "guardrail":
            attrs["orca.guardrail.triggered"] = bool(getattr(data, "triggered", False))
        elif kind == "agent":
            for key in ("tools", "handoffs"):
                names = getattr(data, key, None)
                if names:
                    attrs[f"orca.agents.{key}"] = ",".join(str(n) for n in names)
        elif kind == "turn":
            attrs.update(usage_attrs(usage, "orca.agents.usage"))
        error = span.error
        if error:
            attrs["error.type"] = "agents.SpanError"
            message = str(get(error, "message") or error)
            detail = get(get(error, "data") or {}, "error")  # e.g. what the tool raised
            if detail:
                message = f"{message}: {detail}"
            attrs["exception.message"] = message[:500]
        opened.span.end(attrs, body=body, status="error" if error else None)


class _TraceRef(NamedTuple):
    """Stands for an SDK trace whose start this processor missed (added mid-run)."""

    trace_id: str
    name: str = "Agent workflow"
    group_id: str | None = None
