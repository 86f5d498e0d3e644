"""Runs as ``orca runs --json`` and ``orca runs show RUN --json`` print them: what a page needs.

``GET /api/v1/runs`` and ``/runs/{id}`` answer the orchestrator's own rows
(what ``orca.Client.runs()`` and ``get_run()`` return, as in process); these
two routes answer the CLI's richer documents — tasks, attempts, dead letters,
rejections, usage — read from the ledger by the same functions the CLI calls.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from orca.orchestrator import list_runs, run_governance, show_run
from orca.server import _models as m
from orca.server._responses import JSONOut

router = APIRouter(prefix="/api/v1", tags=["orchestrator"])


@router.get("/runs/summary", response_model=m.RunSummaries, summary="Runs as `orca runs`")
def summaries(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSONOut:
    """Newest first: status, tasks, attempts, duration, usage (``orca runs --json``)."""
    rows = list_runs(request.app.state.config.home, limit=limit)
    return JSONOut({"runs": [r.to_dict() for r in rows]})


@router.get("/runs/{run_ref}/show", response_model=m.RunDetailDoc, summary="`orca runs show`")
def show(request: Request, run_ref: Annotated[str, Path(min_length=1, max_length=200)]) -> JSONOut:
    """One run (id, unique prefix or ``last``): tasks, attempts, usage against its budget."""
    home = request.app.state.config.home
    detail = show_run(home, run_ref)
    governance = run_governance(home, detail.summary.id)
    return JSONOut({**detail.to_dict(), "governance": governance.to_dict()})
