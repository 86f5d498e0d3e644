"""The cacheable prefix of a chat request, fingerprinted from the bytes on the wire.

A provider's prompt cache hits only when the start of the request is
byte-identical to one it saw before. So the fingerprint is taken over raw
byte ranges of the request body exactly as it was sent: no parsing into
objects and re-serialising, no key sorting. A tool schema whose keys were
reordered busts the provider's cache, and it changes the fingerprint too.

The prefix is read in the order providers build their cache (tools, then
``system``, then ``messages``) and is made of the raw member slices
``"tools":[...]``, ``"system":...``, ``"messages":[...`` cut as follows:

* with ``cache_control`` breakpoints present: everything up to the end of the
  object that holds the last breakpoint (in that order);
* otherwise: tools and system in full, and the messages before the last
  ``user`` message (the newest user turn and what follows it are not reused).

The ranges are reported too, so a reader holding the recorded body can cut
the same bytes out again and diff two prefixes.

Anthropic caches at *each* breakpoint separately (up to four: typically the
tools, the system prompt, and the conversation so far), so a change in the
system prompt still lets the tools' entry hit while everything after it
misses. :attr:`Prefix.breakpoints` therefore lists every breakpoint with its
own prefix (a leading part of the whole prefix: its length in prefix bytes and
its fingerprint); a reader can then say *which* breakpoint's prefix changed.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

# The C scanner of the stdlib decoder: decodes one JSON value at an offset and says
# where it ended, which is exactly what cutting raw ranges needs.
_SCAN: Final[Callable[[str, int], tuple[Any, int]]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner, untyped in typeshed
_WS: Final = re.compile(r"[ \t\n\r]*")
_KEY: Final = re.compile(r'"((?:[^"\\]|\\.)*)"[ \t\n\r]*:[ \t\n\r]*')
# Inside one element: a string (a key when a colon follows) or a bracket.
_TOKEN: Final = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")(\s*:)?|[{}\[\]]')
_ORDER: Final[tuple[str, ...]] = ("tools", "system", "messages")
_NEEDLE: Final = '"cache_control"'
_COLON: Final = re.compile(r"[ \t\n\r]*:")


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """One ``cache_control`` breakpoint: where it sits and the prefix it caches."""

    at: str  # the element holding it: "tools[1]", "system[0]", "messages[3]"
    size: int  # its prefix is the first ``size`` bytes of the whole prefix
    fingerprint: str  # sha256 hex of those bytes


@dataclass(frozen=True, slots=True)
class Prefix:
    """The cacheable prefix of one request body."""

    fingerprint: str  # sha256 hex of the concatenated ranges
    size: int  # bytes in the prefix
    ranges: tuple[tuple[int, int], ...]  # half-open byte ranges into the body, in cache order
    breakpoint: bool  # True when cut at a cache_control breakpoint
    breakpoints: tuple[Breakpoint, ...] = ()  # every breakpoint, in cache order

    @property
    def ranges_text(self) -> str:
        """``"12-340,341-900"``: the ranges as one flat attribute value."""
        return ",".join(f"{s}-{e}" for s, e in self.ranges)

    @property
    def breakpoints_text(self) -> str:
        """The breakpoints as one JSON attribute value (``[]`` when there are none)."""
        return json.dumps(
            [{"at": b.at, "bytes": b.size, "fingerprint": b.fingerprint} for b in self.breakpoints],
            separators=(",", ":"),
        )


@dataclass(slots=True)
class _Member:
    key_start: int  # offsets here are str offsets into the decoded body
    value_end: int
    elements: list[tuple[int, int]] | None  # element ranges when the value is an array


class Request:
    """A chat request body: decoded once, with the raw ranges of its cacheable members."""

    __slots__ = ("_members", "_text", "body", "data")

    def __init__(self, body: bytes, text: str, data: dict[str, Any], members: dict[str, _Member]):
        self.body = body
        self.data = data
        self._text = text
        self._members = members

    def prefix(self) -> Prefix:
        """The cacheable prefix (see the module docstring for where it is cut)."""
        data, members = self.data, self._members
        present = [k for k in _ORDER if k in members]
        marks = self._breakpoints(present) if _NEEDLE in self._text else []
        ranges: list[tuple[int, int]] = []
        if marks:
            last = present.index(marks[-1][1])
            for key in present[:last]:
                ranges.append((members[key].key_start, members[key].value_end))
            ranges.append((members[present[last]].key_start, marks[-1][2]))
        else:
            for key in present:
                member = members[key]
                end = member.value_end
                if key == "messages":
                    end = _history_end(data.get("messages"), member)
                ranges.append((member.key_start, end))
        kept = [(s, e) for s, e in ranges if e > s]
        byte_ranges = self._to_bytes(kept)
        # Where each breakpoint's own prefix ends, in bytes of the whole prefix.
        ascii = len(self._text) == len(self.body)
        ends: list[int] = []
        for _, key, cut in marks:
            size = 0
            for (s, _e), (bs, be) in zip(kept, byte_ranges, strict=True):
                if s == members[key].key_start:
                    size += cut - s if ascii else len(self._text[s:cut].encode())
                    break
                size += be - bs
            ends.append(size)
        digest = hashlib.sha256()
        size = 0
        points: list[Breakpoint] = []
        pending = list(zip((m[0] for m in marks), ends, strict=True))
        for start, end in byte_ranges:
            chunk = self.body[start:end]
            while pending and pending[0][1] <= size + len(chunk):
                at, bp_end = pending.pop(0)
                part = digest.copy()
                part.update(chunk[: bp_end - size])
                points.append(Breakpoint(at, bp_end, part.hexdigest()))
            digest.update(chunk)
            size += end - start
        return Prefix(digest.hexdigest(), size, tuple(byte_ranges), bool(marks), tuple(points))

    def _breakpoints(self, present: list[str]) -> list[tuple[str, str, int]]:
        """(label, member, str offset of the holder's end) of every breakpoint, in cache order."""
        out: list[tuple[str, str, int]] = []
        text = self._text
        for key in present:
            elements = self._members[key].elements
            for i, (start, end) in enumerate(elements or ()):
                if text.find(_NEEDLE, start, end) < 0:  # C-speed skip of unmarked elements
                    continue
                ends = _holder_ends(text, start, end)
                for n, cut in enumerate(ends):
                    label = f"{key}[{i}]" if len(ends) == 1 else f"{key}[{i}]#{n + 1}"
                    out.append((label, key, cut))
        return out

    def _to_bytes(self, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if len(self._text) == len(self.body):  # ASCII: str offsets are byte offsets
            return ranges
        text = self._text
        return [(len(text[:s].encode()), len(text[:e].encode())) for s, e in ranges]


def parse_request(body: bytes) -> Request | None:
    """Decode a JSON object body and note its members' raw ranges; None when it is not one."""
    try:
        text = body.decode("utf-8")
        return _parse(body, text)
    except (ValueError, StopIteration, IndexError):
        return None


def prefix_of(body: bytes) -> Prefix | None:
    """The cacheable prefix of a JSON chat request, or None when ``body`` is not one."""
    request = parse_request(body)
    return None if request is None else request.prefix()


def _ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return i if m is None else m.end()


def _parse(body: bytes, text: str) -> Request | None:
    i = _ws(text, 0)
    if text[i] != "{":
        return None
    data: dict[str, Any] = {}
    members: dict[str, _Member] = {}
    i = _ws(text, i + 1)
    if text[i] == "}":
        i += 1
    else:
        while True:
            m = _KEY.match(text, i)
            if m is None:
                return None
            key = m.group(1)
            if "\\" in key:
                key = json.loads(f'"{key}"')
            start = m.end()
            elements: list[tuple[int, int]] | None = None
            if key in _ORDER and text[start] == "[":
                value, end, elements = _array(text, start)
            else:
                value, end = _SCAN(text, start)
            data[key] = value
            if key in _ORDER:
                members[key] = _Member(m.start(), end, elements)
            i = _ws(text, end)
            if text[i] == ",":
                i = _ws(text, i + 1)
                continue
            if text[i] != "}":
                return None
            i += 1
            break
    if _ws(text, i) != len(text):
        return None
    return Request(body, text, data, members)


def _array(text: str, start: int) -> tuple[list[Any], int, list[tuple[int, int]]]:
    values: list[Any] = []
    ranges: list[tuple[int, int]] = []
    j = _ws(text, start + 1)
    if text[j] == "]":
        return values, j + 1, ranges
    while True:
        value, end = _SCAN(text, j)
        values.append(value)
        ranges.append((j, end))
        j = _ws(text, end)
        if text[j] == ",":
            j = _ws(text, j + 1)
        elif text[j] == "]":
            return values, j + 1, ranges
        else:
            raise ValueError("bad array")


def _history_end(messages: object, member: _Member) -> int:
    """End of the last message before the last ``user`` message (or the member's key start)."""
    elements = member.elements
    if not isinstance(messages, list) or not elements:
        return member.key_start
    last = len(messages) - 1  # with no user message: all but the last message
    for i in range(len(messages) - 1, -1, -1):
        msg = messages[i]
        if isinstance(msg, dict) and msg.get("role") == "user":
            last = i
            break
    return elements[last - 1][1] if last > 0 else member.key_start


def _holder_ends(text: str, start: int, end: int) -> list[int]:
    """End offsets of the objects (within one element) that have a cache_control member.

    Scans only from each ``"cache_control"`` key to the end of the object
    holding it, not the whole element (a long system prompt is skipped).
    """
    cuts: list[int] = []
    pos = text.find(_NEEDLE, start, end)
    while pos >= 0:
        after = pos + len(_NEEDLE)
        if text[pos - 1] != "\\" and _COLON.match(text, after):  # a key, not text in a string
            cut = _holder_end(text, after, end)
            if cut is not None:
                cuts.append(cut)
        pos = text.find(_NEEDLE, after, end)
    return cuts


def _holder_end(text: str, pos: int, end: int) -> int | None:
    """End of the object that is open at ``pos`` (just after one of its keys)."""
    depth = 0
    for m in _TOKEN.finditer(text, pos, end):
        if m.group(1) is not None:
            continue
        tok = text[m.start()]
        if tok in "{[":
            depth += 1
        elif depth:
            depth -= 1
        elif tok == "}":
            return m.end()
        else:
            return None
    return None
