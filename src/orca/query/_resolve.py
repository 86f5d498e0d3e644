"""Ids as readers type them: full, a unique prefix, or ``last`` for the newest trace.

The one place in ``orca.query`` that talks to a store, through the read
protocol only, so every shell (CLI, server, MCP) resolves ids and reports a
bad one the same way.
"""

from typing import Final, Literal

from orca._duration import HINT, duration_ns
from orca.errors import UsageError
from orca.store import TraceReader

MAX_DURATION_NS: Final = 200 * 365 * 86_400_000_000_000  # now minus it still fits int64


class QueryError(UsageError):
    """A query that cannot be answered as asked (bad id, bad duration)."""


class UnknownIdError(QueryError):
    """No trace or span has that id or prefix."""


class AmbiguousIdError(QueryError):
    """More than one id starts with that prefix: type more of it."""


def resolve(reader: TraceReader, ref: str, kind: Literal["trace", "span"]) -> str:
    """The full id for ``ref`` (a full id, a unique prefix, or ``last`` for traces)."""
    ref = ref.strip().lower()
    if kind == "trace" and ref == "last":
        newest = reader.list_traces(limit=1)
        if not newest:
            raise UnknownIdError("no traces recorded yet; run your program under `orca run`")
        return newest[0].trace_id
    if not ref or any(c not in "0123456789abcdef" for c in ref):
        raise UnknownIdError(f"{ref or '(empty)'!r} is not a {kind} id (hex digits expected)")
    found = reader.resolve_id(ref, kind)
    if not found:
        raise UnknownIdError(f"no {kind} with id {ref!r}; `orca traces` lists what exists")
    if len(found) > 1 and ref not in found:
        raise AmbiguousIdError(
            f"{kind} id prefix {ref!r} is ambiguous ({', '.join(f[:12] for f in found)}…); "
            "type more digits"
        )
    return ref if ref in found else found[0]


def parse_duration(text: str) -> int:
    """``90s``, ``15m``, ``2h``, ``7d``, ``1w``, ``250ms`` (any case) → nanoseconds."""
    ns = duration_ns(text)
    if ns is None:
        raise QueryError(f"{text!r} is not {HINT}")
    # Longer than any history means "all of it"; the cap keeps now minus it in int64.
    return min(ns, MAX_DURATION_NS)


def since_ns(since: str | None, now_ns: int) -> int | None:
    """The start of a ``--since`` window, or None for all time."""
    return None if since is None else now_ns - parse_duration(since)
