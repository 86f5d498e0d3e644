"""A request body limit, enforced before any route reads the body.

Pure ASGI middleware: a declared ``Content-Length`` over the limit is refused
at once, and a chunked body is counted as it streams and cut off the moment
it passes the limit — so a client cannot make the server buffer gigabytes,
and the answer is a 413 in the usual error shape, not a dropped connection.
"""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orca.server._responses import error_response


class _TooLarge(HTTPException):
    """Raised from ``receive`` mid-body; an HTTPException so FastAPI's body parsing passes it on."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with ``413 body-too-large``."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})  # exact paths with their own limit (OTLP)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.per_path.get(path, self.max_bytes)
        option = "--otlp-max-body" if path in self.per_path else "--max-body"
        message = f"request body over {limit} bytes; send less (the limit is `orca up {option}`)"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await error_response("body-too-large", message)(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge(message)
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await error_response("body-too-large", message)(scope, receive, send)
