"""Prompt-cache evidence from two recorded requests: did the cached prefix survive?

A request's cacheable prefix is recorded as byte ranges of its verbatim body
(``orca.prefix.ranges``) and, when the request marks ``cache_control``
breakpoints (Anthropic), one entry per breakpoint (``orca.prefix.breakpoints``:
where it sits, how many prefix bytes it covers, their sha256). A provider
keeps one cache entry per breakpoint, so "the prefix changed" is not the whole
story: a change in the system prompt still lets the tools' entry hit. This
module says, per breakpoint of the earlier request, whether the later request
still starts with that breakpoint's bytes, and where the first differing byte
sits in the later body. ``cache_control`` members are left out of the
comparison: they mark where an entry ends and are not part of what is cached,
so moving the conversation's breakpoint forward is (rightly) still a hit.
"""

import json
import re
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from orca.query._diff import CONTEXT_BYTES, first_difference
from orca.store import SpanRow


@dataclass(frozen=True, slots=True)
class Mark:
    """One recorded breakpoint: where it sits and the prefix bytes it covers."""

    at: str
    size: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class BreakpointVerdict:
    """Whether one breakpoint of request A still hits in request B."""

    index: int  # 1-based, in cache order (tools, system, messages)
    of: int  # how many breakpoints A had
    at: str  # "tools[1]", "system[0]", "messages[3]"
    kept: bool
    offset: int | None = None  # first differing byte, as an offset into B's body
    before: str = ""  # context bytes before it, and what A and B have there
    was: str = ""
    now: str = ""


def prefix_ranges(span: SpanRow) -> list[tuple[int, int]] | None:
    """The span's ``orca.prefix.ranges`` as (start, end) byte ranges; None when absent."""
    raw = span.attrs.get("orca.prefix.ranges")
    if not isinstance(raw, str):
        return None
    try:
        return [(int(a), int(b)) for a, b in (r.split("-") for r in raw.split(",") if r)]
    except ValueError:
        return None


def marks(span: SpanRow) -> list[Mark]:
    """The span's recorded breakpoints (``[]`` when it has none or they cannot be read)."""
    raw = span.attrs.get("orca.prefix.breakpoints")
    if not isinstance(raw, str):
        return []
    try:
        items: Any = json.loads(raw)
        return [Mark(str(i["at"]), int(i["bytes"]), str(i["fingerprint"])) for i in items]
    except (ValueError, TypeError, KeyError):
        return []


def prefix_bytes(body: bytes, ranges: list[tuple[int, int]]) -> bytes:
    return b"".join(body[a:b] for a, b in ranges)


def body_offset(ranges: list[tuple[int, int]], prefix_offset: int) -> int:
    """Where in the body the ``prefix_offset``-th prefix byte sits."""
    for a, b in ranges:
        if prefix_offset < b - a:
            return a + prefix_offset
        prefix_offset -= b - a
    return ranges[-1][1] if ranges else prefix_offset


# A cache_control member marks where an entry ends; it is not content. Moving the
# breakpoint forward (the usual pattern) must not read as a changed prefix.
_MARK: Final = re.compile(
    rb',[ \t\n\r]*"cache_control"[ \t\n\r]*:[ \t\n\r]*\{[^{}]*\}'
    rb'|"cache_control"[ \t\n\r]*:[ \t\n\r]*\{[^{}]*\}[ \t\n\r]*(?:,[ \t\n\r]*)?'
)


class _Unmarked(NamedTuple):
    """Prefix bytes without cache_control members, and where each cut came from."""

    raw: bytes
    cuts: list[tuple[int, int]]  # (offset in raw, bytes removed before it, cumulative)

    def original(self, offset: int) -> int:
        """The offset in the marked bytes of ``offset`` in :attr:`raw`."""
        shift = 0
        for at, removed in self.cuts:
            if at > offset:
                break
            shift = removed
        return offset + shift


def _unmark(raw: bytes) -> _Unmarked:
    parts: list[bytes] = []
    cuts: list[tuple[int, int]] = []
    last = removed = size = 0
    for m in _MARK.finditer(raw):
        parts.append(raw[last : m.start()])
        size += m.start() - last
        removed += m.end() - m.start()
        cuts.append((size, removed))
        last = m.end()
    parts.append(raw[last:])
    return _Unmarked(b"".join(parts), cuts)


def _show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")


def compare_breakpoints(
    a: SpanRow, body_a: bytes | None, b: SpanRow, body_b: bytes | None
) -> list[BreakpointVerdict] | None:
    """Per breakpoint of ``a``: does ``b`` still start with its prefix? None if not decidable.

    Decidable when ``a`` recorded breakpoints and both bodies and prefix
    ranges are at hand; without the bodies the fingerprints are compared
    breakpoint by breakpoint (a grown conversation then reads as changed).
    """
    points = marks(a)
    if not points:
        return None
    ra, rb = prefix_ranges(a), prefix_ranges(b)
    n = len(points)
    if body_a is None or body_b is None or ra is None or rb is None:
        other = marks(b)
        return [
            BreakpointVerdict(
                i + 1, n, p.at, i < len(other) and other[i].fingerprint == p.fingerprint
            )
            for i, p in enumerate(points)
        ]
    pa, pb = prefix_bytes(body_a, ra), prefix_bytes(body_b, rb)
    theirs = _unmark(pb)
    out: list[BreakpointVerdict] = []
    for i, p in enumerate(points):
        mine = _unmark(pa[: p.size]).raw
        if theirs.raw.startswith(mine):
            out.append(BreakpointVerdict(i + 1, n, p.at, True))
            continue
        off = first_difference(mine, theirs.raw) or 0
        in_b = theirs.original(off)
        out.append(
            BreakpointVerdict(
                i + 1,
                n,
                p.at,
                False,
                body_offset(rb, in_b),
                before=_show(theirs.raw[max(0, off - CONTEXT_BYTES) : off]),
                was=_show(mine[off : off + CONTEXT_BYTES]),
                now=_show(theirs.raw[off : off + CONTEXT_BYTES]),
            )
        )
    return out


def first_lost(verdicts: list[BreakpointVerdict]) -> BreakpointVerdict | None:
    """The first breakpoint (in cache order) whose prefix did not survive."""
    return next((v for v in verdicts if not v.kept), None)


def render_breakpoints(verdicts: list[BreakpointVerdict]) -> list[str]:
    """Plain lines for ``orca diff``: one per breakpoint, with context where it broke."""
    out = [f"cache breakpoints of A: {len(verdicts)}"]
    for v in verdicts:
        if v.kept:
            out.append(f"  {v.index}/{v.of} {v.at}: prefix intact in B (cache hit)")
            continue
        where = "" if v.offset is None else f", first differing byte at offset {v.offset} of B"
        out.append(f"  {v.index}/{v.of} {v.at}: prefix changed{where}")
        if v.offset is not None:
            out.append(f"    A: …{v.before}⟦{v.was}⟧…")
            out.append(f"    B: …{v.before}⟦{v.now}⟧…")
    return out


def breakpoints_json(verdicts: list[BreakpointVerdict]) -> list[dict[str, Any]]:
    """The ``cache_breakpoints`` list of ``orca diff --json``: one object per breakpoint."""
    return [
        {
            "index": v.index,
            "at": v.at,
            "kept": v.kept,
            "offset": v.offset,
            "before": v.before,
            "a": v.was,
            "b": v.now,
        }
        for v in verdicts
    ]
