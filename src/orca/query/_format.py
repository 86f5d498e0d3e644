"""Compact number, duration and id formatting shared by every projection.

The plain skeleton is read by a debugging LLM agent: every character costs,
so numbers are short (``2.0k``, ``1.8s``) and ids are cut to a prefix that the
CLI accepts back (``SHORT_ID`` hex digits).
"""

from typing import Final

SHORT_ID: Final = 8
# Trace ids start with 12 hex digits of milliseconds (time-ordered for the store), so
# traces of one run share a long prefix: a trace's short form keeps 4 random digits too.
SHORT_TRACE_ID: Final = 16
Scalar = str | int | float | bool


def short_id(full: str | None) -> str:
    """The first ``SHORT_ID`` hex digits of an id: enough to resolve it again."""
    return (full or "")[:SHORT_ID]


def short_trace(full: str | None) -> str:
    """The first ``SHORT_TRACE_ID`` hex digits of a trace id."""
    return (full or "")[:SHORT_TRACE_ID]


def fmt_duration(ns: int | None) -> str:
    """``850µs``, ``12ms``, ``1.8s``, ``2m03s``, ``1h02m``; ``?`` when unknown."""
    if ns is None:
        return "?"
    if ns < 0:
        ns = 0
    if ns < 1_000_000:
        return f"{ns // 1000}µs"
    if ns < 1_000_000_000:
        return f"{ns // 1_000_000}ms"
    s = ns / 1e9
    if s < 60:
        return f"{s:.1f}s" if s < 10 else f"{s:.0f}s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def fmt_count(n: float) -> str:
    """``812``, ``2.0k``, ``15k``, ``1.6M``: short, with two or three significant digits."""
    n = float(n)
    sign = "-" if n < 0 else ""
    n = abs(n)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            v = n / limit
            return f"{sign}{v:.1f}{suffix}" if v < 10 else f"{sign}{v:.0f}{suffix}"
    return f"{sign}{int(n)}" if n == int(n) else f"{sign}{n:.1f}"


def fmt_cost(usd: float) -> str:
    """``$0.0031``, ``$1.24``: four significant places below a cent, two above."""
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.4f}"
    return f"${usd:.2f}"


def as_int(value: Scalar | None) -> int:
    """An attribute as an int (0 when absent or not numeric)."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def as_float(value: Scalar | None) -> float:
    """An attribute as a float (0.0 when absent or not numeric)."""
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, newlines flattened, ``…`` when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"
