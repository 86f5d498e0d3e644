"""Diffs of large bodies: the unified diff is still a correct patch, and it does not stall."""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.query import diff_bodies
from orca.query._diff import _unified

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _apply(a: list[str], diff: list[str]) -> list[str]:
    """Apply a unified diff to ``a`` (checking every context and removed line)."""
    out: list[str] = []
    at = 0  # next line of a not yet copied
    for line in diff[2:]:  # skip the ---/+++ header
        m = HUNK.match(line)
        if m:
            start, length = int(m.group(1)), m.group(2)
            first = start - 1 if length != "0" else start
            out.extend(a[at:first])
            at = first
        elif line.startswith(" "):
            assert a[at] == line[1:]
            out.append(a[at])
            at += 1
        elif line.startswith("-"):
            assert a[at] == line[1:]
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return out + a[at:]


LINES = st.lists(st.sampled_from(["{", "}", "  a", "  b", "x", ""]), max_size=30)


@given(a=LINES, b=LINES, shared=LINES, tail=LINES)
def test_trimmed_unified_diff_is_a_correct_patch(
    a: list[str], b: list[str], shared: list[str], tail: list[str]
) -> None:
    """Whatever the common head and tail, applying the diff to A gives B."""
    la, lb = shared + a + tail, shared + b + tail
    lines, omitted = _unified("\n".join(la), "\n".join(lb), 10_000)
    assert omitted == 0
    ta, tb = "\n".join(la).splitlines(), "\n".join(lb).splitlines()
    assert _apply(ta, lines) == tb


@pytest.mark.slow
def test_a_large_json_body_diffs_and_finds_the_change() -> None:
    """200,000 messages (13 MB) with one changed: the verdict and the hunk name the change
    (before trimming, difflib did not finish this in 5 minutes)."""
    msgs = [{"role": "user", "content": f"message {i}", "n": i} for i in range(200_000)]
    a = json.dumps({"messages": msgs}).encode()
    msgs[150_000]["content"] = "changed"
    b = json.dumps({"messages": msgs}).encode()
    d = diff_bodies(a, b)
    assert d.byte.offset is not None and not d.semantic.equal
    assert any('"changed"' in line for line in d.semantic.lines)
    hunk = next(line for line in d.semantic.lines if line.startswith("@@"))
    assert int(HUNK.match(hunk).group(1)) > 150_000 * 5  # line numbers of the whole text
