"""The FastAPI app for one home: routes, error mapping, body limit, metrics.

``create_app(config)`` is everything ``orca up`` serves and everything the
in-process tests exercise; the routes are thin (one call into a room each),
the error handlers map any ORCA error to ``{"error": {"code", "message"}}``.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from orca._version import __version__
from orca.server import (
    _events_api,
    _ledger_api,
    _ops,
    _orch_api,
    _otlp_api,
    _read,
    _runs_api,
)
from orca.server import _models as m
from orca.server._config import ServerConfig
from orca.server._limits import BodyLimit
from orca.server._metrics import MeasureRequests, registry_for
from orca.server._otlp import OtlpIngest
from orca.server._responses import error_response, install_handlers

ERRORS = {
    code: {"model": m.ErrorDoc, "description": what}
    for code, what in (
        (400, "Malformed request"),
        (404, "Unknown id"),
        (409, "An id prefix that more than one id starts with"),
        (413, "Request body over the limit"),
        (422, "A field that cannot be used (named in the message)"),
        (503, "The store (or ledger) is not there yet"),
    )
}


WORKER_THREADS = 128  # sync routes block on fsync or on `result?wait=`: anyio's 40 run out


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    async with AsyncExitStack() as stack:
        config: ServerConfig = app.state.config
        if config.mcp:
            # The SDK's session manager runs once per instance: a fresh MCP app per lifespan
            # (a test client may start the app many times), its lifespan run here because a
            # mounted app's is not run by the parent.
            from orca.mcp import build_server  # the MCP SDK loads only when /mcp is served

            mcp_app = build_server(config.home).streamable_http_app(streamable_http_path="/")
            await stack.enter_async_context(mcp_app.router.lifespan_context(mcp_app))
            app.state.mcp_app = mcp_app
        try:
            yield
        finally:
            app.state.mcp_app = None
            app.state.otlp.close()


class _McpDoor:
    """``/mcp``: hands each request to the MCP app the running lifespan built."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inner = self.app.state.mcp_app
        if inner is None:
            await error_response("not-ready", "the MCP server is not running yet")(
                scope, receive, send
            )
            return
        await inner(scope, receive, send)


def create_app(config: ServerConfig) -> FastAPI:
    """The app serving ``config.home`` (and ``config.orchestrator`` when given)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="ORCA",
        version=__version__,
        description="A local-first control plane and flight recorder for AI agents.",
        responses=ERRORS,  # type: ignore[arg-type]
    )
    app.state.config = config
    app.state.registry, http_metrics = registry_for(config)
    app.state.http_metrics = http_metrics
    install_handlers(app)
    routers = (
        _ops.router,
        _read.router,
        _ledger_api.router,
        _runs_api.router,  # before _orch_api: /runs/summary is not a run id
        _orch_api.router,
        _events_api.router,
        _otlp_api.router,
    )
    for router in routers:
        app.include_router(router)
    app.state.otlp = OtlpIngest(config.home)
    app.state.mcp_app = None
    if config.mcp:
        app.mount("/mcp", _McpDoor(app))
    app.add_middleware(
        BodyLimit,
        max_bytes=config.max_body_bytes,
        per_path={"/v1/traces": config.otlp_max_body_bytes},
    )
    app.add_middleware(MeasureRequests, metrics=http_metrics)
    return app
