"""Diff of two spans: what changed between the warm request and the real one.

Two views, because they answer different questions. The **byte view** is
what a provider's prompt cache sees: identical or not, and the first byte
that differs. The **semantic view** is what a person means: JSON with key
order normalised, then a unified diff of the pretty form (plain text
otherwise). When the two disagree — bytes differ, meaning does not — that is
usually the bug (a reordered key busts the cache), so the verdict says so and
names where the key order changed.
"""

import difflib
import json
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from orca.query._format import Scalar

CONTEXT_BYTES: Final = 24
MAX_DIFF_LINES: Final = 120


@dataclass(frozen=True, slots=True)
class ByteView:
    identical: bool
    len_a: int
    len_b: int
    offset: int | None = None
    before: str = ""
    after_a: str = ""
    after_b: str = ""


@dataclass(frozen=True, slots=True)
class SemanticView:
    kind: Literal["json", "text", "binary", "missing"]
    equal: bool
    lines: list[str] = field(default_factory=list)
    omitted_lines: int = 0
    key_order_paths: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BodyDiff:
    """Two bodies compared as the prompt cache sees them (bytes) and as a person does."""

    byte: ByteView
    semantic: SemanticView
    verdict: str  # one line; says when bytes differ but meaning does not (the cache bug)


@dataclass(frozen=True, slots=True)
class AttrChange:
    """One attribute added, removed or changed between two spans (None: absent on that side)."""

    key: str
    a: Scalar | None
    b: Scalar | None


def first_difference(a: bytes, b: bytes) -> int | None:
    """Offset of the first differing byte (the shorter length if one is a prefix), or None."""
    if a == b:
        return None
    n = min(len(a), len(b))
    lo, hi = 0, n
    # Binary search on equal prefixes: bodies are large, differences often late.
    while lo < hi:
        mid = (lo + hi) // 2
        if a[lo : mid + 1] == b[lo : mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")


def byte_view(a: bytes, b: bytes, context: int = CONTEXT_BYTES) -> ByteView:
    off = first_difference(a, b)
    if off is None:
        return ByteView(True, len(a), len(b))
    return ByteView(
        False,
        len(a),
        len(b),
        off,
        before=_show(a[max(0, off - context) : off]),
        after_a=_show(a[off : off + context]),
        after_b=_show(b[off : off + context]),
    )


def _json(raw: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False, None


def key_order_paths(a: Any, b: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Where two equal-when-sorted JSON values list the same keys in a different order."""
    out: list[str] = []
    stack: deque[tuple[Any, Any, str]] = deque([(a, b, path)])  # popleft: O(1), not O(n)
    while stack and len(out) < limit:
        x, y, p = stack.popleft()
        if isinstance(x, dict) and isinstance(y, dict):
            if set(x) == set(y) and list(x) != list(y):
                out.append(p)
            stack.extend((x[k], y[k], f"{p}.{k}") for k in x if k in y)
        elif isinstance(x, list) and isinstance(y, list):
            stack.extend((u, v, f"{p}[{i}]") for i, (u, v) in enumerate(zip(x, y, strict=False)))
    return [p.removeprefix("$.") if p != "$" else p for p in out]


_HUNK: Final = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")
CONTEXT_LINES: Final = 2


def _unified(a: str, b: str, max_lines: int) -> tuple[list[str], int]:
    """A unified diff; lines both sides share at the ends are set aside first.

    difflib's matcher is quadratic on long, repetitive inputs (a 1.6 MB JSON
    body took 12 s, a 16 MB one did not finish in 5 minutes), and bodies in
    the blob store are that large. Equal leading and trailing lines cannot be
    part of a change, so only the middle (plus context) goes to difflib, and
    the hunk headers are shifted back to the whole text's line numbers.
    """
    la, lb = a.splitlines(), b.splitlines()
    n = min(len(la), len(lb))
    head = 0
    while head < n and la[head] == lb[head]:
        head += 1
    tail = 0
    while tail < n - head and la[-1 - tail] == lb[-1 - tail]:
        tail += 1
    start = max(0, head - CONTEXT_LINES)
    cut = max(0, tail - CONTEXT_LINES)
    mid_a, mid_b = la[start : len(la) - cut], lb[start : len(lb) - cut]
    lines = list(difflib.unified_diff(mid_a, mid_b, "a", "b", lineterm="", n=CONTEXT_LINES))
    if start:
        lines = [_shift(line, start) for line in lines]
    return lines[:max_lines], max(0, len(lines) - max_lines)


def _shift(line: str, by: int) -> str:
    m = _HUNK.match(line)
    if m is None:
        return line
    a0, a_len, b0, b_len = m.groups()
    # difflib writes a start of 0 only for an empty range, which stays 0 + by - 0 = by.
    return f"@@ -{int(a0) + by}{a_len or ''} +{int(b0) + by}{b_len or ''} @@" + line[m.end() :]


def semantic_view(a: bytes, b: bytes, max_lines: int = MAX_DIFF_LINES) -> SemanticView:
    ok_a, ja = _json(a)
    ok_b, jb = _json(b)
    if ok_a and ok_b:
        pa = json.dumps(ja, sort_keys=True, indent=2, ensure_ascii=False)
        pb = json.dumps(jb, sort_keys=True, indent=2, ensure_ascii=False)
        lines, omitted = _unified(pa, pb, max_lines)
        paths = key_order_paths(ja, jb)
        return SemanticView("json", pa == pb, lines, omitted, paths)
    try:
        ta, tb = a.decode("utf-8"), b.decode("utf-8")
    except UnicodeDecodeError:
        return SemanticView("binary", a == b)
    lines, omitted = _unified(ta, tb, max_lines)
    return SemanticView("text", ta == tb, lines, omitted)


def diff_bodies(a: bytes | None, b: bytes | None, max_lines: int = MAX_DIFF_LINES) -> BodyDiff:
    """Both views of two bodies and a one-line verdict that says when they disagree."""
    if a is None or b is None:
        which = "both" if a is None and b is None else ("A" if a is None else "B")
        return BodyDiff(
            ByteView(a == b, len(a or b""), len(b or b"")),
            SemanticView("missing", a == b),
            f"body missing on {which} (never recorded, or pruned)",
        )
    bv = byte_view(a, b)
    sv = semantic_view(a, b, max_lines)
    if bv.identical:
        verdict = f"bytes identical ({len(a)} bytes)"
    else:
        verdict = f"bytes differ at offset {bv.offset}"
        if sv.equal:
            verdict += "; semantically equal"
            if sv.key_order_paths:
                verdict += " — key order changed in " + ", ".join(sv.key_order_paths)
            else:
                verdict += " — whitespace or number formatting changed"
        elif sv.kind == "binary":  # no lines to count: say what can be said
            verdict += f"; binary bodies ({len(a)} vs {len(b)} bytes, not shown as lines)"
        else:
            plus = sum(1 for ln in sv.lines if ln.startswith("+") and not ln.startswith("+++"))
            minus = sum(1 for ln in sv.lines if ln.startswith("-") and not ln.startswith("---"))
            verdict += f"; semantically different ({sv.kind}: +{plus} -{minus} lines)"
            if sv.key_order_paths:
                verdict += "; key order also changed in " + ", ".join(sv.key_order_paths)
    return BodyDiff(bv, sv, verdict)


def diff_attrs(a: Mapping[str, Scalar], b: Mapping[str, Scalar]) -> list[AttrChange]:
    """Attributes added, removed or changed from ``a`` to ``b``, by key."""
    return [
        AttrChange(k, a.get(k), b.get(k))
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) or (k in a) != (k in b)
    ]


def render_body_diff(d: BodyDiff, title: str = "body") -> list[str]:
    """The plain text of a body diff: verdict, byte context, then the semantic diff."""
    out = [f"{title}: {d.verdict}"]
    bv = d.byte
    if not bv.identical and bv.offset is not None:
        out.append(f"  bytes: A={bv.len_a} B={bv.len_b}; at offset {bv.offset}:")
        out.append(f"    A: …{bv.before}⟦{bv.after_a}⟧…")
        out.append(f"    B: …{bv.before}⟦{bv.after_b}⟧…")
    sv = d.semantic
    if not sv.equal and sv.lines:
        out.append(f"  semantic ({sv.kind}, keys sorted):" if sv.kind == "json" else "  text:")
        out.extend("    " + ln for ln in sv.lines)
        if sv.omitted_lines:
            out.append(f"    … {sv.omitted_lines} more diff lines left out")
    return out


def body_diff_json(d: BodyDiff) -> dict[str, Any]:
    """One body's part of the documented ``orca diff --json`` shape (docs/query.md)."""
    bv, sv = d.byte, d.semantic
    return {
        "verdict": d.verdict,
        "bytes": {
            "identical": bv.identical,
            "len_a": bv.len_a,
            "len_b": bv.len_b,
            "offset": bv.offset,
            "before": bv.before,
            "after_a": bv.after_a,
            "after_b": bv.after_b,
        },
        "semantic": {
            "kind": sv.kind,
            "equal": sv.equal,
            "diff": sv.lines,
            "omitted_lines": sv.omitted_lines,
            "key_order_changed": sv.key_order_paths,
        },
    }
