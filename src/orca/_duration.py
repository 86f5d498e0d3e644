"""The one duration parser: ``250ms``, ``30s``, ``15m``, ``2h``, ``7d``, ``1w`` (any case).

Every ``--since``/``--wait`` option, the HTTP API's and the MCP tools'
``since`` read durations through here, so ``2H`` means the same everywhere.
It returns None for text that is not a duration and leaves the error to the
caller, whose error class and limits differ (the CLI refuses a century, a
``since`` query takes it as "all history"). A leaf module, open to every room.
"""

import re
from fractions import Fraction
from typing import Final

UNIT_NS: Final = {
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
HINT: Final = "a duration like 30s, 15m, 2h, 7d (units: ms s m h d w)"
_DURATION: Final = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d|w)?\s*", re.IGNORECASE)


def duration_ns(text: str, *, bare: str | None = None) -> int | None:
    """``text`` in nanoseconds (exact, however many digits), or None when it is not a duration.

    ``bare`` is the unit of a plain number (``5`` with ``bare="s"`` is five
    seconds); without it a unit is required.
    """
    m = _DURATION.fullmatch(text)
    unit = (m.group(2) or bare or "").lower() if m else ""
    if m is None or unit not in UNIT_NS:
        return None
    return int(Fraction(m.group(1)) * UNIT_NS[unit])
