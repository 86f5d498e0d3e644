"""ORCA: a local-first control plane and flight recorder for AI agents.

``import orca`` gives the capture API only; the store, collector, query,
ledger and server are separate rooms imported on demand, so instrumented
code pays for none of them.
"""

from orca._home import resolve_home
from orca._version import __version__
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
from orca.errors import OrcaError


def __getattr__(name: str) -> object:
    """``orca.Client`` is imported on first use: the hot path never loads httpx or the server."""
    if name == "Client":
        from orca.server import Client

        return Client
    raise AttributeError(f"module 'orca' has no attribute {name!r}")


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
