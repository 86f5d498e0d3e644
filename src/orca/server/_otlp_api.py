"""``POST /v1/traces``: OTLP/HTTP trace ingest (protobuf or JSON, gzip accepted).

One call into :class:`~orca.server._otlp.OtlpIngest` (journal first, then the
answer). Errors keep the API's one shape: ``400 malformed`` for a body that
does not decode, ``415 unsupported-media-type`` for an unknown content type or
encoding, ``413`` from the body limit (``orca up --otlp-max-body``), ``429
journal-full`` with ``Retry-After`` when the journal cannot take more.
"""

import anyio
from fastapi import APIRouter, Request, Response

from orca.integrations.otlp import OtlpError
from orca.server._otlp import Backpressure, OtlpIngest
from orca.server._responses import error_response

router = APIRouter(tags=["otlp"])


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace export (journaled before the answer)",
    responses={
        200: {"content": {"application/x-protobuf": {}, "application/json": {}}},
        400: {"description": "Malformed OTLP body"},
        413: {"description": "Body over the OTLP limit"},
        415: {"description": "Unknown content type or encoding"},
        429: {"description": "The journal cannot take more now; retry after Retry-After"},
    },
)
async def export_traces(request: Request) -> Response:
    ingest: OtlpIngest = request.app.state.otlp
    body = await request.body()
    ctype = request.headers.get("content-type")
    encoding = request.headers.get("content-encoding")
    try:
        content, media = await anyio.to_thread.run_sync(ingest.accept_http, body, ctype, encoding)
    except Backpressure as exc:
        return error_response(
            "journal-full", str(exc), status=429, headers={"Retry-After": str(exc.retry_after)}
        )
    except OtlpError as exc:
        code = "unsupported-media-type" if exc.code == "encoding" else "malformed"
        return error_response(code, str(exc))
    return Response(content=content, media_type=media)
