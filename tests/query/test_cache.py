"""Prompt-cache evidence helpers: cache_control markers left out, offsets mapped back."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from orca.query._cache import _unmark, body_offset

MARK = {"type": "ephemeral"}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=10), st.booleans(), st.booleans()), min_size=1, max_size=6),
    st.booleans(),
)
def test_unmark_removes_markers_and_maps_offsets_back(
    blocks: list[tuple[str, bool, bool]], compact: bool
) -> None:
    """Invariant: without its markers a body equals the unmarked one; offsets map back exactly."""
    seps = (",", ":") if compact else (", ", ": ")
    marked, plain = [], []
    for text, mark, first in blocks:
        block = {"type": "text", "text": text}
        plain.append(block)
        if mark:  # the marker first or last among the keys: both must come out cleanly
            block = {"cache_control": MARK, **block} if first else {**block, "cache_control": MARK}
        marked.append(block)
    raw = json.dumps(marked, separators=seps).encode()
    want = json.dumps(plain, separators=seps).encode()
    got = _unmark(raw)
    assert got.raw == want
    for i in range(len(want)):
        assert raw[got.original(i)] == want[i]


def test_body_offset_walks_the_ranges_in_cache_order() -> None:
    """A prefix offset lands in the body range that holds it (ranges need not be in body order)."""
    ranges = [(100, 110), (10, 20)]
    assert body_offset(ranges, 0) == 100
    assert body_offset(ranges, 9) == 109
    assert body_offset(ranges, 10) == 10
    assert body_offset(ranges, 25) == 20  # past the end: the end of the last range
