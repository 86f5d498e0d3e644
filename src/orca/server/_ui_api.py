"""What the pages need beyond the CLI's shapes: a trace's timeline and a body in slices.

Both live under ``/api/v1`` like every other read, so a page never has a
private back door: an agent can fetch exactly what a person sees. The
timeline is served in row slices and a body in byte slices (at most
``MAX_SLICE`` per request), so no page ever waits for — or holds — a whole
10,000-span trace or a 10 MB body in one response.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from orca.errors import OrcaError
from orca.query import get_span, get_trace, timeline, timeline_json, traces_json
from orca.query._resolve import UnknownIdError
from orca.server import _models as m
from orca.server._read import Store
from orca.server._responses import JSONOut
from orca.store import open_store

router = APIRouter(prefix="/api/v1", tags=["read"])
MAX_ROWS: Final = 5000
MAX_SLICE: Final = 256 * 1024


@router.get(
    "/traces/{trace_id}/timeline", response_model=m.TimelineDoc, summary="Waterfall rows, sliced"
)
def trace_timeline(
    s: Store,
    trace_id: Annotated[str, m.ID_PATH],
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000,
) -> JSONOut:
    """Spans depth-first with offsets and durations; fold groups and links for the whole trace."""
    return JSONOut(timeline_json(timeline(get_trace(s, trace_id)), offset=offset, limit=limit))


def _cut(chunk: bytes, want: int) -> int:
    """How much of ``chunk`` to send: ``want`` bytes, moved back to a character boundary.

    ``chunk`` holds up to 3 bytes past ``want`` so the byte after the cut can be
    seen; a cut inside a UTF-8 sequence moves back to where that sequence starts.
    """
    if want >= len(chunk):
        return len(chunk)
    back = want
    while back > max(0, want - 4) and chunk[back] & 0xC0 == 0x80:
        back -= 1
    return back or want  # a slice shorter than one character: send the bytes anyway


@router.get("/spans/{span_id}/body", response_model=m.BodySliceDoc, summary="A slice of a body")
def body_slice(
    s: Store,
    span_id: Annotated[str, m.ID_PATH],
    which: Literal["request", "response"] = "request",
    offset: Annotated[int, Query(ge=0, le=2**40)] = 0,
    length: Annotated[int, Query(ge=1, le=MAX_SLICE)] = 64 * 1024,
) -> JSONOut:
    """``length`` bytes of one body from ``offset`` (cut at a character boundary).

    Only that range is read (``body_range``): a slice of a 10 MB blob costs a slice.
    """
    row = get_span(s, span_id)
    sha = row.request_body if which == "request" else row.response_body
    total = row.request_body_bytes if which == "request" else row.response_body_bytes
    chunk = s.body_range(sha, offset, length + 3) if sha else None
    if chunk is None:
        what = "was never recorded" if sha is None else "is not in the store (pruned?)"
        raise UnknownIdError(f"the {which} body of span {row.span_id} {what}")
    start = min(offset, total)
    sent = chunk[: _cut(chunk, length)]
    return JSONOut(
        {
            "span": row.span_id,
            "which": which,
            "sha256": sha,
            "total": total,
            "offset": start,
            "end": start + len(sent),
            "text": sent.decode("utf-8", "backslashreplace"),
        }
    )


TRACE_POLL_S: Final = 1.0


def _newest(home: Path) -> dict[str, Any] | None:
    """The newest trace's summary, or None while the store is empty (or not created yet)."""
    try:
        s = open_store(home)
    except OrcaError:
        return None
    try:
        rows = s.list_traces(limit=1)
    except OrcaError:
        return None
    finally:
        s.close()
    return traces_json(rows)["traces"][0] if rows else None


# Left out of /openapi.json (it is documented in docs/ui.md): a stream with no end cannot be
# fuzzed in process, and it carries nothing `/traces` does not already answer.
@router.get("/traces/events", response_class=EventSourceResponse, include_in_schema=False)
async def trace_events(request: Request) -> EventSourceResponse:
    """A ``trace`` event (the summary, as in ``/traces``) whenever the newest trace changes.

    The store is polled once a second on a worker thread; the first event is
    only sent for a trace newer than the one current when the stream opened.
    """
    home = request.app.state.config.home
    shutdown = anyio.Event()

    async def stream() -> AsyncIterator[ServerSentEvent]:
        last = await anyio.to_thread.run_sync(_newest, home)
        seen = (last or {}).get("trace_id"), (last or {}).get("span_count")
        while not shutdown.is_set():
            with anyio.move_on_after(TRACE_POLL_S):
                await shutdown.wait()
            if shutdown.is_set() or await request.is_disconnected():
                return
            now = await anyio.to_thread.run_sync(_newest, home)
            key = (now or {}).get("trace_id"), (now or {}).get("span_count")
            if now is not None and key != seen:
                seen = key
                yield ServerSentEvent(data=orjson.dumps(now).decode(), event="trace")

    return EventSourceResponse(
        stream(), ping=15, shutdown_event=shutdown, shutdown_grace_period=1.0
    )
