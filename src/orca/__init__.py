"""ORCA: a local-first control plane and flight recorder for AI agents.

``import orca`` gives the capture API only; the store, collector, query,
ledger and server are separate rooms imported on demand, so instrumented
code pays for none of them. Even the capture room loads on first use of one
of its names (``orca.Recorder``, ``orca.Span``, …): the ``orca`` command is
a submodule of this package, and ``orca trace last`` reads a store without
recording anything, so it does not pay for the recorder either.
"""

from typing import TYPE_CHECKING, Final

from orca._home import resolve_home
from orca._lazyattr import lazy_attrs as _lazy_attrs
from orca._version import __version__
from orca.errors import OrcaError

if TYPE_CHECKING:
    from orca.capture import (
        NOOP_SPAN,
        IdGenerator,
        ListSink,
        Logger,
        Recorder,
        Sink,
        Span,
        mask,
        prompt_assembly,
        tool_call,
    )
    from orca.server import Client

_LAZY: Final = {
    "orca.capture": (
        "NOOP_SPAN",
        "IdGenerator",
        "ListSink",
        "Logger",
        "Recorder",
        "Sink",
        "Span",
        "mask",
        "prompt_assembly",
        "tool_call",
    ),
    "orca.server": ("Client",),  # the hot path never loads httpx or the server
}
__getattr__, __dir__ = _lazy_attrs(__name__, _LAZY, globals())

__all__ = [
    "NOOP_SPAN",
    "Client",
    "IdGenerator",
    "ListSink",
    "Logger",
    "OrcaError",
    "Recorder",
    "Sink",
    "Span",
    "__version__",
    "mask",
    "prompt_assembly",
    "resolve_home",
    "tool_call",
]
