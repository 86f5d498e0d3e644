"""Fixtures of the store's tests."""

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from orca.store import SQLiteStore

ReaderView = Callable[[SQLiteStore, list[str]], dict[str, Any]]


def _reader_view(store: SQLiteStore, queries: list[str]) -> dict[str, Any]:
    """What a reader sees: every trace, every body by hash, the hits of ``queries``.

    (``golden/make_v4_store.py`` keeps its own copy: it runs alone, against an
    older ORCA, to write the golden files this is compared with.)
    """
    out: dict[str, Any] = {"traces": [], "bodies": {}, "search": {}}
    for summary in store.list_traces(limit=None):
        rows = store.get_trace(summary.trace_id)
        assert rows is not None
        out["traces"].append(dataclasses.asdict(rows))
        for span in rows.spans:
            for sha in (span.request_body, span.response_body):
                if sha:
                    out["bodies"][sha] = (store.get_body(sha) or b"").decode()
    out["search"] = {q: [dataclasses.asdict(h) for h in store.search(q)] for q in queries}
    return out


@pytest.fixture
def reader_view() -> ReaderView:
    """The reader's view of a store, to compare a migrated store with its golden JSON."""
    return _reader_view
