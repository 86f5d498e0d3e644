"""``GET /api/v1/runs/{id}/events``: a run's ledger entries as Server-Sent Events, resumable.

Each event is one ledger entry: ``id`` is the entry id (monotonic across the
whole ledger), ``event`` its kind, ``data`` the same JSON as ``orca ledger
tail --json``. A client that loses the connection reconnects with the
standard ``Last-Event-ID`` header and gets exactly the entries after that id
— none missed, none twice — because the id *is* the ledger position. When
the run has ended and its last entry was sent, an ``end`` event (no id)
closes the stream, so a client can tell "finished" from "dropped".

The stream polls the orchestrator's non-blocking reader on a worker thread
and sleeps on the event loop in between, so a client that goes away costs
nothing: no thread stays blocked waiting for a run that may never end.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

import anyio
import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from orca.server._errors import InvalidField
from orca.server._orch_api import orch

router = APIRouter(prefix="/api/v1", tags=["orchestrator"])
POLL_S: Final = 0.05
PING_S: Final = 15
SHUTDOWN_GRACE_S: Final = 1.0


def _start(start_event_id: int | None, last_event_id: str | None) -> int | None:
    """Where to resume: after ``Last-Event-ID`` (a reconnect), else ``start_event_id``."""
    if last_event_id is None or not last_event_id.strip():
        return start_event_id
    try:
        seen = int(last_event_id)
    except ValueError:
        raise InvalidField("Last-Event-ID", "must be the id of an event this stream sent") from None
    if seen < 0:
        raise InvalidField("Last-Event-ID", "must not be negative")
    return max(seen + 1, start_event_id or 0)


@router.get(
    "/runs/{run_id}/events",
    summary="A run's ledger entries as Server-Sent Events (resumable)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(
    request: Request,
    run_id: Annotated[str, Path(min_length=1, max_length=200)],
    follow: bool = True,
    start_event_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
) -> EventSourceResponse:
    o = orch(request)
    await anyio.to_thread.run_sync(o.get_run, run_id)  # 404 now, not mid-stream
    first = _start(start_event_id, last_event_id)

    def read(after: int | None) -> tuple[bool, list[Any]]:
        ended = o.get_run(run_id).status != "open"  # decided before reading: nothing slips by
        return ended, list(o.stream_events(run_id, start_event_id=after, follow=False))

    shutdown = anyio.Event()  # set by sse-starlette when the server stops

    async def stream() -> AsyncIterator[ServerSentEvent]:
        nxt = first
        while not shutdown.is_set():
            ended, batch = await anyio.to_thread.run_sync(read, nxt)
            for e in batch:
                yield ServerSentEvent(
                    data=orjson.dumps(e.to_dict(), default=str).decode(), id=str(e.id), event=e.kind
                )
                nxt = e.id + 1
            if ended or not follow:
                yield ServerSentEvent(data=orjson.dumps({"run": run_id}).decode(), event="end")
                return
            if await request.is_disconnected():
                return
            with anyio.move_on_after(POLL_S):
                await shutdown.wait()
        # The server is stopping: end this response cleanly; the client resumes elsewhere
        # (or after a restart) with Last-Event-ID.

    return EventSourceResponse(
        stream(), ping=PING_S, shutdown_event=shutdown, shutdown_grace_period=SHUTDOWN_GRACE_S
    )
