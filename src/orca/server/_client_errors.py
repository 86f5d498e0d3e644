"""The error table read backwards: an answer's stable code → the exception the embedded API raises.

Built from the classes themselves (each orchestrator error carries its
``code``), so a code added there is mapped here without a second list to
keep in step. A code nobody owns becomes :class:`~orca.server.ApiError`.
"""

from functools import cache

from orca.errors import OrcaError
from orca.orchestrator import InvalidRequest, OrchestratorError
from orca.query import AmbiguousIdError, UnknownIdError
from orca.server._errors import ApiError


def _subclasses(cls: type[OrchestratorError]) -> list[type[OrchestratorError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_subclasses(sub))
    return out


@cache
def _by_code() -> dict[str, type[OrcaError]]:
    table: dict[str, type[OrcaError]] = {
        "unknown-id": UnknownIdError,
        "ambiguous-id": AmbiguousIdError,
        "invalid": InvalidRequest,  # a field the server refused before the orchestrator saw it
    }
    for cls in _subclasses(OrchestratorError):
        table.setdefault(cls.code, cls)
    return table


def error_for(status: int, code: str, message: str) -> OrcaError:
    """The exception for an error answer (its message as the server wrote it)."""
    cls = _by_code().get(code)
    return ApiError(status, code, message) if cls is None else cls(message)
