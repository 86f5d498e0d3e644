"""Capture records in memory, or read back everything a home's journal holds."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orca.capture import IdGenerator, ListSink, Recorder
from orca.journal import JournalReader, list_segments


@contextmanager
def temp_home() -> Iterator[Path]:
    """A fresh, empty ORCA home directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="orca-home-") as d:
        yield Path(d)


@contextmanager
def capture_records(*, seed: int | None = None) -> Iterator[tuple[Recorder, list[dict[str, Any]]]]:
    """A recorder whose records land in a list instead of a journal.

    ``seed`` makes ids deterministic (golden tests).
    """
    sink = ListSink()
    ids = IdGenerator(seed) if seed is not None else None
    rec = Recorder(sink, ids=ids)
    try:
        yield rec, sink.records
    finally:
        rec.close()


def journal_records(home: Path) -> list[dict[str, Any]]:
    """Every valid record in every segment of ``home``'s journal, in segment order."""
    out: list[dict[str, Any]] = []
    for _, path in list_segments(home / "journal"):
        with path.open("rb") as f:
            for parsed in JournalReader(f).records():
                if parsed.record is not None:
                    out.append(dict(parsed.record))
    return out
