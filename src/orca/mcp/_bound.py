"""Bounds on every tool result: the debugging agent's context is the scarce resource.

A tool never returns more than ``max_text`` bytes of text, and the rows of its
structured result are cut to the same budget. Whatever was cut is said in one
``more`` line naming the call that gets the rest, so the agent never mistakes a
page for the whole.
"""

from collections.abc import Sequence
from typing import Any, Final, TypeVar

import orjson

DEFAULT_MAX_TEXT: Final = 4096
"""Bytes of text (and of structured rows) one tool result may hold by default."""

T = TypeVar("T")


def clip_text(text: str, max_bytes: int, more: str | None = None) -> str:
    """``text`` cut on a line (or character) boundary to ``max_bytes``, then the ``more`` note."""
    raw = text.encode()
    hint = more or "Narrow the call (a trace, `only`, `since`, `limit`) to see the rest."
    note = f"… cut at {max_bytes} bytes of {len(raw)}. {hint}\n"
    if len(raw) <= max_bytes:
        return text
    room = max(0, max_bytes - len(note.encode()))
    head = raw[:room]
    nl = head.rfind(b"\n")
    if nl > room // 2:
        head = head[: nl + 1]
    return head.decode("utf-8", "ignore") + ("" if head.endswith(b"\n") else "\n") + note


def fit_rows(rows: Sequence[T], max_bytes: int, encode: Any = None) -> tuple[list[T], int]:
    """The leading rows whose JSON fits ``max_bytes`` (at least one), and how many were cut."""
    kept: list[T] = []
    used = 0
    for row in rows:
        size = len(orjson.dumps(encode(row) if encode else row, default=str))
        if kept and used + size > max_bytes:
            break
        kept.append(row)
        used += size
    return kept, len(rows) - len(kept)


def char_boundary(raw: bytes, pos: int) -> int:
    """``pos`` moved back to the start of the UTF-8 character it falls in."""
    pos = max(0, min(pos, len(raw)))
    while 0 < pos < len(raw) and raw[pos] & 0xC0 == 0x80:
        pos -= 1
    return pos
