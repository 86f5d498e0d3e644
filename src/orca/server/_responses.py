"""JSON in and out, and the one error shape every route answers with.

``{"error": {"code": "...", "message": "..."}}``: ``code`` is stable (clients
switch on it, ``orca.Client`` maps it back to the exception the embedded API
raises), ``message`` says what to do. Any exception a route lets escape is
mapped here — an ORCA error by its class, a request that does not parse by
FastAPI's validation — so no input can produce a traceback page.
"""

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from orca.errors import OrcaError
from orca.server._errors import STATUS_BY_CODE

log = logging.getLogger("orca.server")

_HTTP_CODES: Final = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}


class JSONOut(Response):
    """orjson-encoded JSON, non-JSON values as strings — what the CLI's ``--json`` prints."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def error_response(
    code: str,
    message: str,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONOut:
    """The error shape with the status its code stands for."""
    return JSONOut(
        {"error": {"code": code, "message": message}},
        status_code=status or STATUS_BY_CODE.get(code, 400),
        headers=headers,
    )


def code_of(exc: OrcaError) -> str:
    """The stable code of an ORCA error: its own ``code``, else one chosen by its class."""
    from orca.ledger import LedgerCorruptError, LedgerError, ProofError
    from orca.query import AmbiguousIdError, UnknownIdError
    from orca.store import StoreError

    own = getattr(exc, "code", None)
    if isinstance(own, str) and own in STATUS_BY_CODE:
        return own
    table: list[tuple[type[OrcaError], str]] = [
        (UnknownIdError, "unknown-id"),
        (AmbiguousIdError, "ambiguous-id"),
        (ProofError, "proof-unavailable"),
        (LedgerCorruptError, "ledger-corrupt"),
        (LedgerError, "ledger-unavailable"),
        (StoreError, "store-unavailable"),
    ]
    for cls, code in table:
        if isinstance(exc, cls):
            return code
    return "invalid" if isinstance(exc, ValueError) else "bad-request"


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with included routers flattened (FastAPI keeps them as nested objects)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_routes(inner.routes)
        else:
            yield route


def allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path (Starlette's 405 names one route's only)."""
    methods: set[str] = set()
    for route in iter_routes(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_handlers(app: FastAPI) -> None:
    """Map every exception a route can raise to the error shape (never a 500 page)."""

    @app.exception_handler(OrcaError)
    async def _orca(_: Request, exc: OrcaError) -> Response:
        return error_response(code_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = _field(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return error_response("malformed", f"the request body is not valid JSON ({where})")
        msg = str(first.get("msg", "invalid value")).rstrip(".")
        return error_response("invalid", f"{where}: {msg}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "bad-request")
        detail = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such path; GET / lists the API"
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            detail = f"method not allowed here; use {headers['Allow']}"
        return error_response(code, detail, status=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        # A bug, not an input: logged with its traceback for us, one line for the caller.
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response("internal", f"internal error ({type(exc).__name__}); see the log")
