"""The server room: ``orca up`` — the HTTP API, ``/metrics`` and the client that speaks to it.

``create_app(ServerConfig(home))`` builds the FastAPI app (routes are thin
shells over ``orca.query``, ``orca.ledger`` and the orchestrator);
``serve(...)`` runs it with the collector beside it; :class:`Client` is the
same API over HTTP. Imported only by the CLI's ``up`` and by users of the
client: ``import orca`` never loads it.
"""

from typing import TYPE_CHECKING

from orca.server._app import create_app
from orca.server._config import (
    DEFAULT_HOST,
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    HomeGauges,
    ModelUsage,
    ServerConfig,
)
from orca.server._errors import (
    STATUS_BY_CODE,
    ApiError,
    InvalidField,
    NoOrchestrator,
    ServerError,
    ServerLocked,
)
from orca.server._up import UpOptions, serve

if TYPE_CHECKING:
    from orca.server._client import Client


def __getattr__(name: str) -> object:
    """``Client`` on first use: ``orca up`` never needs it, and it costs ~0.1 s to import."""
    if name == "Client":
        from orca.server._client import Client

        return Client
    raise AttributeError(f"module 'orca.server' has no attribute {name!r}")


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_BODY",
    "DEFAULT_PORT",
    "STATUS_BY_CODE",
    "ApiError",
    "Client",
    "HomeGauges",
    "InvalidField",
    "ModelUsage",
    "NoOrchestrator",
    "ServerConfig",
    "ServerError",
    "ServerLocked",
    "UpOptions",
    "create_app",
    "serve",
]
