"""MCP: ORCA's thin debugging tools for LLM agents (stdio and streamable HTTP).

Peers hand a debugging agent whole traces; ORCA serves a skeleton first, then
one span, a diff, a verdict — each bounded (``DEFAULT_MAX_TEXT``) and each
saying how to get more. ``orca mcp`` serves it on stdio; ``orca up`` mounts the
same server at ``/mcp``.
"""

from orca.mcp._bound import DEFAULT_MAX_TEXT
from orca.mcp._server import build_server, run_stdio

__all__ = ["DEFAULT_MAX_TEXT", "build_server", "run_stdio"]
