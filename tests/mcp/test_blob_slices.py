"""MCP body slices of a body in the blob store read only their window, and match the whole."""

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.blobs import BlobStore
from orca.capture import Recorder
from orca.collector import Collector
from orca.mcp._tools import Home, _slice, span_of
from orca.store import SQLiteStore

# 300 KB of mixed 1-, 2-, 3- and 4-byte characters: slices must land on character edges.
CHARS = "aé€𐀀"
BODY = "".join(random.Random(5).choices(CHARS, k=120_000))


@pytest.fixture(scope="module")
def blob_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home whose one provider.request span has BODY in the blob store."""
    home = tmp_path_factory.mktemp("mcp-blobs")
    rec = Recorder.open(home, heartbeat_s=None)
    rec.logger("agent").span("provider.request", body=BODY).end()
    rec.close()
    with Collector(home) as c:
        c.drain()
    assert len(list(BlobStore.open(home, create=False).ls())) == 1
    with SQLiteStore.open(home) as store:
        (span,) = store.find_spans(name="provider.request")
    return home, span.span_id


@settings(max_examples=40, deadline=None)
@given(offset=st.integers(0, len(BODY.encode()) + 10), max_bytes=st.integers(1, 3000))
def test_window_slice_equals_the_whole_body_slice(
    blob_home: tuple[Path, str], offset: int, max_bytes: int
) -> None:
    """Text, start, total and next cursor are those of slicing the whole body."""
    home, span_id = blob_home
    doc = span_of(Home.at(home), span_id, "request", offset, max_bytes).data["slice"]
    text, start, nxt = _slice(BODY.encode(), offset, max_bytes)
    assert (doc["text"], doc["offset"], doc["next_offset"]) == (text, start, nxt)
    assert doc["total"] == len(BODY.encode())
