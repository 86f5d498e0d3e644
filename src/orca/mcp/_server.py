"""The MCP server: ORCA's thin debugging tools for an LLM agent, over stdio or streamable HTTP.

Built with the official SDK's ``MCPServer``. Each tool is one call into
``_tools`` (which calls the query room) and returns ``structuredContent``
validated against its output schema plus a short text rendering; every result
is bounded and says how to get more. A bad id or a missing home is a tool
error with a hint — the server itself never goes down for a bad call.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ResourceLink, TextContent

from orca._version import __version__
from orca.errors import OrcaError
from orca.mcp import _models as m
from orca.mcp import _tools as t
from orca.mcp._bound import DEFAULT_MAX_TEXT

INSTRUCTIONS = (
    "ORCA records what AI agents did. Debug thin: `check` first (findings cite span ids), "
    "then `skeleton` of the trace, then `span` for one span (bodies in bounded slices, "
    "`offset` to page), `diff` for two spans. Every result is bounded; a `more` field "
    "says how to get the rest."
)

DEBUG_PROMPT = """You are debugging an AI agent's run recorded by ORCA (trace {trace}).
Goal: find the ROOT CAUSE, cite the span ids that prove it, and do NOT fix anything.
Loop:
1. check(trace="{trace}") — each finding names a check and the span ids that prove it.
2. skeleton(trace="{trace}") — one line per span; find where the findings sit.
3. span(span=ID) for the proving spans; span(span=ID, body="request", offset=N) pages bodies.
4. diff(a=ID, b=ID) when two requests should have been the same (cache busts).
Answer with: the root cause in one sentence, the evidence (span ids and what each shows),
and what would confirm it. Say "unknown" rather than guess."""


def _result(r: t.Result) -> CallToolResult:
    content: list[Any] = [TextContent(type="text", text=r.text)]
    content += [
        ResourceLink(
            type="resource_link",
            uri=uri,
            name=uri.rsplit("/", 2)[-2] + " " + uri.rsplit("/", 1)[-1],
        )
        for uri in r.links
    ]
    return CallToolResult(content=content, structured_content=r.data)


def _call(fn: Callable[[], t.Result]) -> CallToolResult:
    """Run one tool body; ORCA's own errors become tool errors with their hint."""
    try:
        return _result(fn())
    except OrcaError as exc:
        raise ToolError(str(exc)) from None


def build_server(home: str | Path | None = None, *, max_text: int = DEFAULT_MAX_TEXT) -> MCPServer:
    """An MCP server reading the ORCA home ``home`` (default ``$ORCA_HOME``, else ``./.orca``)."""
    h = t.Home.at(home, max_text)
    srv: MCPServer = MCPServer(
        "orca",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
        warn_on_duplicate_tools=False,
    )

    @srv.tool(description="Traces newest first: the count that match, then rows (bounded).")
    def list_traces(
        status: Literal["ok", "error", "unfinished", "crashed"] | None = None,
        conversation: str | None = None,
        since: str | None = None,
        query: str | None = None,
        limit: int = 20,
    ) -> Annotated[CallToolResult, m.TraceList]:
        return _call(lambda: t.list_traces(h, status, conversation, since, query, limit))

    @srv.tool(description="One line per span of a trace (id, unique prefix or `last`); folded.")
    def skeleton(
        trace: str, fold: bool = True, max_lines: int = 200
    ) -> Annotated[CallToolResult, m.SkeletonOut]:
        return _call(lambda: t.skeleton_of(h, trace, fold, max_lines))

    @srv.tool(
        description="One span: attributes (HTTP headers only when attrs names a prefix such as "
        "'http.'), links, logs; with body=request|response one bounded slice from offset, "
        "next_offset to page on, and a link to the whole body."
    )
    def span(
        span: str,
        body: Literal["request", "response"] | None = None,
        offset: int = 0,
        max_bytes: int = 2048,
        attrs: str | None = None,
    ) -> Annotated[CallToolResult, m.SpanOut]:
        return _call(lambda: t.span_of(h, span, body, offset, max_bytes, attrs))

    @srv.tool(description="What changed between two spans' bodies (semantic or bytes) and attrs.")
    def diff(
        a: str,
        b: str,
        mode: Literal["semantic", "bytes"] = "semantic",
        body: Literal["request", "response"] = "request",
    ) -> Annotated[CallToolResult, m.DiffOut]:
        return _call(lambda: t.diff_of(h, a, b, mode, body))

    @srv.tool(
        description="The bug catalog over one trace (or the newest 200); findings cite spans."
    )
    def check(
        trace: str | None = None, only: str | None = None
    ) -> Annotated[CallToolResult, m.CheckOut]:
        return _call(lambda: t.check_of(h, trace, only))

    @srv.tool(
        description="Count, error rate, p50/p95, tokens, cost grouped by name|model|component|tool."
    )
    def stats(by: str = "name", since: str | None = None) -> Annotated[CallToolResult, m.StatsOut]:
        return _call(lambda: t.stats_of(h, by, since))

    @srv.tool(description="Full-text search over logs, attributes and bodies, newest first.")
    def search(query: str, limit: int = 20) -> Annotated[CallToolResult, m.SearchOut]:
        return _call(lambda: t.search_of(h, query, limit))

    @srv.tool(
        description="Governed actions from the ledger (run, kind prefix, since), oldest first."
    )
    def ledger_events(
        run: str | None = None, kind: str | None = None, since: str | None = None, limit: int = 50
    ) -> Annotated[CallToolResult, m.LedgerOut]:
        return _call(lambda: t.ledger_events(h, run, kind, since, limit))

    @srv.tool(description="Working memory derived from the ledger (tags, run), newest first.")
    def memory(
        tags: list[str] | None = None, run: str | None = None, limit: int = 20
    ) -> Annotated[CallToolResult, m.MemoryOut]:
        return _call(lambda: t.memory_of(h, tags, run, limit))

    @srv.tool(description="Orchestrated runs newest first: status, tasks, dead letters, attempts.")
    def runs(limit: int = 20) -> Annotated[CallToolResult, m.RunsOut]:
        return _call(lambda: t.runs_of(h, limit))

    @srv.tool(description="One run (id, prefix or `last`): tasks, attempts, rejections, budget.")
    def run(run: str) -> Annotated[CallToolResult, m.RunOut]:
        return _call(lambda: t.run_of(h, run))

    @srv.tool(description="Verify the ledger: hash chain, signatures, checkpoints.")
    def verify() -> Annotated[CallToolResult, m.VerifyOut]:
        return _call(lambda: t.verify_of(h))

    @srv.prompt(description="Set up a debugging agent for one trace: root cause, cited spans.")
    def debug_trace(trace: str) -> str:
        return DEBUG_PROMPT.format(trace=trace)

    @srv.resource("orca://trace/{trace_id}", mime_type="text/plain", description="A skeleton.")
    def trace_resource(trace_id: str) -> str:
        try:
            return t.skeleton_of(h, trace_id, True, 10**6).text
        except OrcaError as exc:
            raise ValueError(str(exc)) from None

    @srv.resource(
        "orca://span/{span_id}/body/{which}",
        mime_type="application/octet-stream",
        description="A span's whole request or response body.",
    )
    def body_resource(span_id: str, which: str) -> bytes:
        try:
            return t.whole_body(h, span_id, which)
        except OrcaError as exc:
            raise ValueError(str(exc)) from None

    return srv


def run_stdio(home: str | Path | None = None, *, max_text: int = DEFAULT_MAX_TEXT) -> None:
    """Serve the tools on stdin/stdout until the client closes them (``orca mcp``)."""
    build_server(home, max_text=max_text).run("stdio")
