"""The web UI: server-rendered page shells (Jinja2) whose scripts read only ``/api/v1``.

A page is a template that names what it shows (a trace id, two span ids)
and loads one small plain-JavaScript module; the module fetches the same
JSON an agent or ``orca.Client`` gets. There is no private back door: if a
page needs something, it is an API route with a response model. Everything
— templates, scripts, styles — is package data served from this process
(no CDN, no fonts, no build step), so the UI works offline.
"""

from pathlib import Path
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from orca._version import __version__

HERE: Final = Path(__file__).parent
templates: Final = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
NAV: Final = (("/", "Traces"), ("/runs", "Runs"), ("/ledger", "Ledger"), ("/stats", "Stats"))
SECTION: Final = {"trace": "traces", "span": "traces", "diff": "traces", "run": "runs"}
Id = Annotated[str, PathParam(min_length=1, max_length=200)]
# The first request a page makes starts while its scripts load (an inline fetch in the
# page head; the module picks its promise up): the JSON, not the script chain, sets paint time.
FIRST_ROWS: Final = 300
FIRST_TRACES: Final = 50
QueryId = Annotated[str, Query(max_length=64)]


def _page(request: Request, name: str, title: str, **ctx: object) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"{name}.html",
        {
            "title": title,
            "nav": NAV,
            "page": name,
            "section": SECTION.get(name, name),
            "version": __version__,
            "prefetch": None,
            **ctx,
        },
    )


@router.get("/", response_class=HTMLResponse)
def traces_page(request: Request) -> HTMLResponse:
    return _page(request, "traces", "Traces", prefetch=f"/api/v1/traces?limit={FIRST_TRACES}")


@router.get("/traces/{trace_id}", response_class=HTMLResponse)
def trace_page(request: Request, trace_id: Id) -> HTMLResponse:
    first = f"/api/v1/traces/{quote(trace_id, safe='')}/timeline?limit={FIRST_ROWS}"
    return _page(request, "trace", f"Trace {trace_id[:12]}", trace_id=trace_id, prefetch=first)


@router.get("/spans/{span_id}", response_class=HTMLResponse)
def span_page(request: Request, span_id: Id) -> HTMLResponse:
    return _page(request, "span", f"Span {span_id[:12]}", span_id=span_id)


@router.get("/diff", response_class=HTMLResponse)
def diff_page(request: Request, a: QueryId = "", b: QueryId = "") -> HTMLResponse:
    return _page(request, "diff", "Diff", a=a, b=b)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request) -> HTMLResponse:
    return _page(request, "runs", "Runs")


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: Id) -> HTMLResponse:
    return _page(request, "run", f"Run {run_id[:24]}", run_id=run_id)


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request) -> HTMLResponse:
    return _page(request, "ledger", "Ledger")


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request) -> HTMLResponse:
    return _page(request, "stats", "Stats")


def install_pages(app: FastAPI) -> None:
    """The page routes and ``/static`` (scripts and styles shipped inside the package)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
