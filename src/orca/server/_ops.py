"""Outside ``/api/v1``: ``/api`` (an index of the API), ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` answers as long as the process serves requests (liveness).
``/readyz`` says whether it can do its job: the ledger open for appending,
a collector alive for the home, the store reachable — and names each that is
not, so an operator (or ``orca up``'s own start-up wait) knows what to fix.
"""

from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import HTMLResponse, Response

from orca.errors import OrcaError
from orca.server import _models as m
from orca.server._responses import JSONOut, iter_routes
from orca.store import open_store

router = APIRouter(tags=["operations"])


def _ledger_state(request: Request) -> str:
    orch = request.app.state.config.orchestrator
    if orch is None:
        return "no orchestrator in this process (read-only server)"
    try:
        orch.tick()  # cheap, and raises exactly when the ledger can no longer be appended to
    except OrcaError as exc:
        return str(exc)
    return "ok"


def _collector_state(request: Request) -> str:
    gauges = request.app.state.config.gauges
    if gauges is None:
        return "not watched (no collector figures given to this app)"
    try:
        pid = gauges().collector_pid
    except (OrcaError, OSError) as exc:
        return f"unknown ({exc})"
    if pid is None:
        return f"not running (start one: orca collect --home {request.app.state.config.home})"
    return "ok"


def _store_state(request: Request) -> str:
    try:
        with open_store(request.app.state.config.home) as store:
            store.list_traces(limit=1)
    except OrcaError as exc:
        return str(exc)
    return "ok"


def readiness(request: Request) -> dict[str, str]:
    """Each part ``orca up`` needs, "ok" or what is wrong with it."""
    return {
        "ledger": _ledger_state(request),
        "collector": _collector_state(request),
        "store": _store_state(request),
    }


@router.get("/healthz", response_model=m.Health, summary="Liveness")
async def healthz() -> JSONOut:
    """On the event loop itself: answers even when every worker thread is busy (or blocked)."""
    return JSONOut({"status": "ok"})


@router.get(
    "/readyz",
    response_model=m.Readiness,
    responses={503: {"model": m.ErrorDoc}},
    summary="Readiness: ledger, collector, store",
)
def readyz(request: Request) -> JSONOut:
    checks = readiness(request)
    bad = {k: v for k, v in checks.items() if v != "ok"}
    if not bad:
        return JSONOut({"ready": True, "checks": checks})
    message = "not ready: " + "; ".join(f"{k}: {v}" for k, v in bad.items())
    return JSONOut(
        {"error": {"code": "not-ready", "message": message}, "checks": checks}, status_code=503
    )


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


def _index(request: Request) -> list[dict[str, Any]]:
    out = []
    for route in iter_routes(request.app.routes):
        methods = sorted(getattr(route, "methods", None) or [])
        path = getattr(route, "path", "")
        if not methods or path in ("/api", "/docs/oauth2-redirect") or path.startswith("/static"):
            continue
        summary = getattr(route, "summary", None) or ""
        out.append(
            {"path": path, "methods": [x for x in methods if x != "HEAD"], "summary": summary}
        )
    return out


@router.get("/api", response_class=HTMLResponse, summary="An index of the API")
def index(request: Request) -> HTMLResponse:
    """What this server offers, with links to the docs (the web UI is at ``/``)."""
    from html import escape

    rows = "\n".join(
        f"<tr><td>{escape(' '.join(r['methods']))}</td><td><code>{escape(r['path'])}</code></td>"
        f"<td>{escape(r['summary'])}</td></tr>"
        for r in _index(request)
    )
    home = escape(str(request.app.state.config.home))
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>ORCA</title></head><body>"
        f"<h1>ORCA</h1><p>Serving the home <code>{home}</code>. "
        "Interactive API docs: <a href='/docs'>/docs</a>; schema: "
        "<a href='/openapi.json'>/openapi.json</a>; metrics: <a href='/metrics'>/metrics</a>. "
        "The same data from a shell: <code>orca traces</code>, <code>orca trace last</code>.</p>"
        f"<table><tr><th>method</th><th>path</th><th>what</th></tr>\n{rows}\n</table>"
        "</body></html>"
    )
