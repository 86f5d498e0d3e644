"""Partial redaction: keep a secret's field present and diffable, never its value.

A masked key still tells a reader *whether* the key changed between two
requests (the revealed ends differ) without storing the live value. Shorter
secrets reveal less, because a few characters of a short secret are a larger
share of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

MARK: Final = "…redacted…"  # stands for the hidden part of a masked secret (all of a short one)
_MARK_B: Final = MARK.encode()

if TYPE_CHECKING:
    import re


def _revealed(length: int) -> int:
    """How many characters to reveal at each end for a secret of ``length``."""
    if length >= 13:
        return 3
    if length >= 11:
        return 2
    if length >= 8:
        return 1
    return 0


def mask(secret: str) -> str:
    """Mask ``secret``: ≥13 chars reveal 3+3, 11–12 reveal 2+2, 8–10 reveal 1+1, else none."""
    n = _revealed(len(secret))
    if n == 0:
        return MARK
    return f"{secret[:n]}{MARK}{secret[-n:]}"


def _mask_bytes(secret: bytes) -> bytes:
    n = _revealed(len(secret))
    if n == 0:
        return _MARK_B
    return secret[:n] + _MARK_B + secret[-n:]


# The backstop runs on every serialised record, so it is two stages: a few
# literal substring checks (measured: several times cheaper here than one regex
# search over the line), then the real patterns only on the rare hit.
# sk-… style API keys (OpenAI, Anthropic, …): at least 16 key characters. A literal
# start lets the regex engine jump between candidates; "task-…" is ruled out in _sub_key.
_API_KEY_RE: Final = rb"sk-[A-Za-z0-9_\-]{16,}"
# Bearer and Basic credentials wherever they appear (headers, error messages, bodies),
# whatever the scheme's case ("bearer", "BASIC").
_BEARER_RE: Final = rb"(?i)(bearer\s+)([A-Za-z0-9._\-~+/=]{8,})"
_BASIC_RE: Final = rb"(?i)(basic\s+)([A-Za-z0-9+/=]{8,})"
# Field names whose string value is a credential: matched on the lower-cased line,
# then the value is located in the original bytes right after the name. The quotes
# may be escaped: a nested dict stringified into an attribute is JSON inside JSON.
_AUTH_NAMES: Final = (b"authorization", b"api-key", b"api_key")
_VALUE_AFTER_NAME_RE: Final = rb'\\?"\s*:\s*\\?"((?:[^"\\]|\\[^"])+)'


@functools.cache
def _compiled(pattern: bytes) -> re.Pattern[bytes]:
    """Compile on first use: ``re`` stays out of ``import orca`` until a line needs masking."""
    import re

    return re.compile(pattern)


_ALNUM: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _sub_key(m: re.Match[bytes]) -> bytes:
    start = m.start()
    if start > 0 and m.string[start - 1] in _ALNUM:  # part of a word such as "task-…"
        return m.group(0)
    return _mask_bytes(m.group(0))


def _sub_bearer(m: re.Match[bytes]) -> bytes:
    return m.group(1) + _mask_bytes(m.group(2))


def _mask_credential(value: bytes) -> bytes:
    if _MARK_B in value:  # already masked at the call site (or by a pattern above)
        return value
    scheme, sep, token = value.partition(b" ")
    return scheme + sep + _mask_bytes(token) if sep else _mask_bytes(value)


def _mask_named_fields(line: bytes) -> bytes:
    """Mask the values of fields named like a credential (any case)."""
    low = line.lower()
    spans: list[tuple[int, int]] = []
    for name in _AUTH_NAMES:
        pos = low.find(name)
        while pos >= 0:
            m = _compiled(_VALUE_AFTER_NAME_RE).match(line, pos + len(name))
            if m is not None:
                spans.append(m.span(1))
            pos = low.find(name, pos + 1)
    if not spans:
        return line
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(line[last:start])
        out.append(_mask_credential(line[start:end]))
        last = end
    out.append(line[last:])
    return b"".join(out)


def scrub_secrets(line: bytes) -> bytes:
    """Mask obvious secrets in one serialised record; return ``line`` itself when clean.

    This is the backstop, not the policy: code that owns a secret masks it with
    :func:`mask` at the call site. The backstop catches what is recognisable by
    shape: ``sk-…`` keys, ``Bearer …`` and ``Basic …`` credentials anywhere (any
    case), and the value of any field whose name contains "authorization" (any
    case), also inside a nested dict stringified into an attribute. In a line it
    flags, API-key fields (``api_key``, ``x-api-key``) are masked too.
    """
    # One lower-cased copy and four finds: measured cheaper than seven case-variant finds,
    # far cheaper than a case-insensitive regex, and it catches any mix of case.
    low = line.lower()
    find = low.find  # bytes.find: `in` on bytes pays for a failed int conversion first
    if find(b"sk-") < 0 and find(b"authoriz") < 0 and find(b"bearer") < 0 and find(b"basic") < 0:
        return line
    # The rare slow path: each pattern only where its cue appears.
    out = line
    if line.find(b"sk-") >= 0:
        out = _compiled(_API_KEY_RE).sub(_sub_key, out)
        low = out.lower()
    if low.find(b"bearer") >= 0:
        out = _compiled(_BEARER_RE).sub(_sub_bearer, out)
    if low.find(b"basic") >= 0:
        out = _compiled(_BASIC_RE).sub(_sub_bearer, out)
    return _mask_named_fields(out)


# Command-line flags and NAME=value arguments whose value is a secret by its name.
_SECRET_NAME_PARTS: Final = ("password", "passwd", "secret", "token", "credential", "auth")


def _secret_name(name: str) -> bool:
    low = name.lower().lstrip("-").replace("_", "-")
    return bool(low) and (
        any(part in low for part in _SECRET_NAME_PARTS)
        or low == "key"
        or low.endswith(("-key", "apikey"))
        or low in ("pass", "pw", "pwd")
    )


def mask_argv(argv: list[str]) -> list[str]:
    """The command line with values of secret-named options masked.

    ``--password=…``, ``--token …``, ``--api-key=…`` and ``OPENAI_API_KEY=…``
    keep their names (a reader still sees what was passed) but not their values.
    """
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(mask(arg))
            mask_next = False
            continue
        name, eq, value = arg.partition("=")
        if eq and (name.startswith("-") or name.replace("_", "").isalnum()) and _secret_name(name):
            out.append(f"{name}={mask(value)}")
        elif arg.startswith("-") and not eq and _secret_name(arg):
            out.append(arg)
            mask_next = True
        else:
            out.append(arg)
    return out


Scrubber = Callable[[bytes], bytes]
