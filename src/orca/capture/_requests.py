"""Which provider request asked for which tool call: one bounded map per recorder.

A model asks for tool calls by id; the agent runs them later, often far from
the HTTP edge that saw the request. The edge notes the ids here and
:func:`orca.capture.tool_call` looks them up to link the answer back. The map
belongs to the :class:`~orca.capture.Recorder` (every handle it made shares
it), so two recorders in one process never link into each other's traces and
a closed recorder's map goes away with it.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Final, NamedTuple, Protocol

MAX_PENDING: Final = 10_000


class _HasIds(Protocol):
    @property
    def trace_id(self) -> str: ...

    @property
    def span_id(self) -> str: ...


class RequestRef(NamedTuple):
    """The provider.request span that asked for a tool call."""

    trace_id: str
    span_id: str


class ToolRequests:
    """call id → the span that asked for it; bounded, oldest evicted, thread-safe."""

    __slots__ = ("_limit", "_lock", "_map")

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._limit = limit
        self._map: OrderedDict[str, RequestRef] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, asked_by: _HasIds, call_ids: Sequence[str]) -> None:
        """Remember that ``asked_by`` asked for each of ``call_ids``."""
        ref = RequestRef(asked_by.trace_id, asked_by.span_id)
        with self._lock:
            for call_id in call_ids:
                self._map[call_id] = ref
                self._map.move_to_end(call_id)
            while len(self._map) > self._limit:
                self._map.popitem(last=False)

    def asked_by(self, call_id: str) -> RequestRef | None:
        """The span that asked for ``call_id``, if it was noted (and not evicted)."""
        with self._lock:
            return self._map.get(call_id)

    def __len__(self) -> int:
        return len(self._map)
