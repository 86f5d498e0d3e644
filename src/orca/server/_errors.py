"""The server's errors and the one table that turns any ORCA error into an HTTP answer.

    ServerError              the server cannot run as asked            (orca.server)
    ├── ServerLocked         another `orca up` serves this home (names its pid)
    ├── InvalidField         a request field the route cannot use (422, names the field)
    └── NoOrchestrator       this server runs without an orchestrator (503)
    ApiError                 an HTTP answer `orca.Client` could not map to a room's error

Every error a route lets escape is answered as ``{"error": {"code", "message"}}``
with a status from :data:`STATUS_BY_CODE`; ``orca.Client`` reads the same
table backwards so an embedded caller and a remote one see the same exception.
"""

from typing import Final

from orca.errors import OrcaError

# Stable codes the API answers with, and their HTTP status. Codes of the
# orchestrator's rejections are its own (EnvelopeRejected.code); the rest
# name read-side and transport conditions.
STATUS_BY_CODE: Final[dict[str, int]] = {
    # transport and read side
    "bad-request": 400,
    "malformed": 400,
    "not-found": 404,
    "unknown-id": 404,
    "proof-unavailable": 404,
    "method-not-allowed": 405,
    "ambiguous-id": 409,  # several ids start with the prefix: the request conflicts with the data
    "body-too-large": 413,
    "journal-full": 429,  # OTLP ingest: the journal cannot take more now (Retry-After)
    "unsupported-media-type": 415,
    "invalid": 422,
    "not-ready": 503,
    "store-unavailable": 503,
    "ledger-unavailable": 503,
    "ledger-corrupt": 503,
    "internal": 500,
    # the orchestrator's own codes (orca.orchestrator errors carry them as `code`)
    "invalid-envelope": 422,
    "envelope-rejected": 422,
    "unsupported-protocol": 422,
    "invalid-request": 422,
    "task-failed": 422,
    "policy-denied": 403,
    "run-not-found": 404,
    "task-not-found": 404,
    "idempotency-conflict": 409,
    "run-not-open": 409,
    "run-not-finished": 409,
    "lease-lost": 409,
    "expired": 410,
    "budget-exceeded": 429,
    "orchestrator-closed": 503,
    "orchestrator-error": 503,
}


class ServerError(OrcaError):
    """The server cannot run as asked (port taken, home held, bad option)."""


class ServerLocked(ServerError):
    """Another ``orca up`` already serves this home; one server per home."""

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        holder = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"{holder} already serves this home ({path}); stop it first, or pass another --home"
        )


class InvalidField(ServerError):
    """A request field that parses but cannot be used (a bad duration, an unknown check)."""

    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NoOrchestrator(ServerError):
    """The server was built without an orchestrator (read-only); its routes answer 503."""

    code = "not-ready"


class ApiError(OrcaError):
    """An error answer from an ORCA server that has no matching local exception."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"{message} (HTTP {status}, {code})")
