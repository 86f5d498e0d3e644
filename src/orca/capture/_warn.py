"""A warning that never becomes an exception in the traced process.

Recording must never raise into the caller's turn (STYLE habit 6), yet a
person should hear once that something is off. ``warnings.warn`` is the
standard channel (tests catch it with ``pytest.warns``), but under
``-W error`` it raises: then the message goes to stderr instead.
"""

import sys
import warnings


def safe_warn(message: str, stacklevel: int = 2) -> None:
    """``warnings.warn(message, RuntimeWarning)``; never an exception into the caller."""
    try:
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)
    except Exception:
        try:
            sys.stderr.write(message + "\n")
        except Exception:
            pass
