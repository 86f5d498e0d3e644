"""The seam between record builders and wherever records go."""

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Sink(Protocol):
    """Receives finished records. ``emit`` must never raise into the caller."""

    def emit(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class ListSink:
    """Keeps records in memory: for tests and for embedding ORCA in another recorder."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def emit(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def close(self) -> None:
        pass
