"""Payload paths: ``$.args.cmd`` or ``messages[0].content``, parsed once at load time.

A rule names the exact place in the payload it looks at. There is
deliberately no "anywhere in the payload" form: matching a substring of the
whole serialised payload is how peers end up blocking a word in a harmless
field and missing it in a renamed one.
"""

import re
from typing import Any, Final

Segment = str | int
_TOKEN: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[\"([^\"]+)\"\]")
MISSING: Final = object()


def parse_path(text: str) -> tuple[Segment, ...]:
    """Segments of a path; ValueError saying what is wrong when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a payload path must be a non-empty string such as $.args.cmd")
    rest = text.strip()
    if rest.startswith("$"):
        rest = rest[1:]
    if rest and rest[0] not in ".[":
        rest = "." + rest
    segments: list[Segment] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None:
            raise ValueError(
                f'cannot read path {text!r} at {rest[pos:]!r}; use $.key, [index] or ["key"]'
            )
        name, index, quoted = m.groups()
        segments.append(int(index) if index is not None else (name or quoted))
        pos = m.end()
    if not segments:
        raise ValueError(f"path {text!r} names the whole payload; name a field such as $.text")
    return tuple(segments)


def get_path(doc: Any, path: tuple[Segment, ...]) -> Any:
    """The value at ``path`` or :data:`MISSING`."""
    cur = doc
    for seg in path:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                return MISSING
        elif not isinstance(cur, dict) or seg not in cur:
            return MISSING
        cur = cur[seg]
    return cur


def set_path(doc: Any, path: tuple[Segment, ...], value: Any) -> Any:
    """A copy of ``doc`` with ``path`` set (missing objects on the way are created)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        if not isinstance(doc, list) or head >= len(doc):
            return doc  # cannot set an index that does not exist; leave the payload as it is
        out = list(doc)
        out[head] = set_path(out[head], rest, value)
        return out
    base = dict(doc) if isinstance(doc, dict) else {}
    base[head] = set_path(base.get(head), rest, value)
    return base


def drop_path(doc: Any, path: tuple[Segment, ...]) -> Any:
    """A copy of ``doc`` without ``path`` (unchanged when it is not there)."""
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        if not isinstance(doc, list) or head >= len(doc):
            return doc
        out = list(doc)
        if rest:
            out[head] = drop_path(out[head], rest)
        else:
            del out[head]
        return out
    if not isinstance(doc, dict) or head not in doc:
        return doc
    new = dict(doc)
    if rest:
        new[head] = drop_path(new[head], rest)
    else:
        del new[head]
    return new


def format_path(path: tuple[Segment, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)
