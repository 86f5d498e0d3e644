"""Per-request settings for the instrumented clients, scoped to a block of code.

:func:`~orca.integrations.openai.request_context` (and the Agents SDK
processor) say "requests made in this block belong under this span, in this
conversation". The value is one frozen :class:`Overrides` in a context
variable: each block pushes a new value merged over the enclosing one and pops
it on exit, so concurrent tasks and threads never see each other's settings
and nothing can mutate a value another block is reading.
"""

from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any

from orca.capture import Span


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the requests of the current block are recorded with (None: the client's own)."""

    parent: Span | None = None
    conversation_id: str | None = None
    cache_send: str | None = None
    # Collects the provider.request spans recorded inside the block (a framework span
    # wants to know which requests nested in it). The list is the block's own.
    seen: list[Span] | None = None


NO_OVERRIDES = Overrides()
_CURRENT: ContextVar[Overrides] = ContextVar("orca_provider_overrides", default=NO_OVERRIDES)


def current_overrides() -> Overrides:
    """The overrides in force for a request made now, in this task or thread."""
    return _CURRENT.get()


def push_overrides(**values: Any) -> Token[Overrides]:
    """Merge ``values`` (those not None) over the enclosing block's; pop with the token."""
    changes = {key: value for key, value in values.items() if value is not None}
    return _CURRENT.set(replace(_CURRENT.get(), **changes))


def pop_overrides(token: Token[Overrides]) -> None:
    """Restore what was in force before the matching :func:`push_overrides`."""
    _CURRENT.reset(token)
