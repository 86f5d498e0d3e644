"""The byte view and the semantic view of a body diff, and when they disagree."""

import json

from hypothesis import given
from hypothesis import strategies as st

from orca.query import body_diff_json, diff_attrs, diff_bodies, first_difference, render_body_diff


def test_identical() -> None:
    """Identical bodies diff as 'bytes identical' with their size."""
    d = diff_bodies(b'{"a":1}', b'{"a":1}')
    assert d.byte.identical and d.semantic.equal
    assert d.verdict == "bytes identical (7 bytes)"


def test_key_order_only_is_named() -> None:
    """Reordered keys: bytes differ (the cache busts), meaning does not, and the path is named."""
    a = json.dumps({"tools": [{"x": 1}, {"y": 1}, {"name": "t", "type": "function"}]}).encode()
    b = json.dumps({"tools": [{"x": 1}, {"y": 1}, {"type": "function", "name": "t"}]}).encode()
    d = diff_bodies(a, b)
    off = first_difference(a, b)
    assert off is not None and a[:off] == b[:off] and a[off] != b[off]
    assert (
        d.verdict
        == f"bytes differ at offset {off}; semantically equal — key order changed in tools[2]"
    )
    assert d.semantic.lines == []


def test_whitespace_only() -> None:
    """Bodies differing only in JSON whitespace are called semantically equal."""
    d = diff_bodies(b'{"a": 1}', b'{"a":1}')
    assert "semantically equal — whitespace or number formatting changed" in d.verdict


def test_semantic_change_has_unified_diff() -> None:
    """A changed JSON value gives a line count and a unified diff of the pretty-printed bodies."""
    d = diff_bodies(b'{"m": ["hi", "there"]}', b'{"m": ["hi", "you"]}')
    assert "semantically different (json: +1 -1 lines)" in d.verdict
    text = "\n".join(render_body_diff(d))
    assert '-    "there"' in text and '+    "you"' in text
    assert "A: …" in text and "B: …" in text


def test_plain_text_and_missing() -> None:
    """Non-JSON bodies diff as text with the first differing byte; a missing body is said."""
    d = diff_bodies(b"hello\nworld\n", b"hello\nthere\n")
    assert d.semantic.kind == "text" and not d.semantic.equal
    assert diff_bodies(None, b"x").verdict.startswith("body missing on A")
    assert body_diff_json(d)["bytes"]["offset"] == 6


def test_diff_attrs() -> None:
    """diff_attrs lists removed, changed and added keys in key order."""
    changes = diff_attrs({"a": 1, "b": 2}, {"b": 3, "c": 4})
    assert [(c.key, c.a, c.b) for c in changes] == [("a", 1, None), ("b", 2, 3), ("c", None, 4)]


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_first_difference_is_exact(a: bytes, b: bytes) -> None:
    """The offset is the length of the common prefix (None only for equal inputs)."""
    off = first_difference(a, b)
    if a == b:
        assert off is None
        return
    assert off is not None
    assert a[:off] == b[:off]
    assert off == min(len(a), len(b)) or a[off] != b[off]
