"""Where an ORCA home is: the one directory that holds a deployment's journal, store and ledger.

A leaf module so every room (and the CLI) resolves the home the same way.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pathlib import Path

HOME_ENV: Final = "ORCA_HOME"
DEFAULT_HOME: Final = ".orca"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """``home`` if given, else ``$ORCA_HOME``, else ``./.orca`` (absolute, not created)."""
    from pathlib import Path  # not at import time: `import orca` stays cheap

    if home is None:
        home = os.environ.get(HOME_ENV) or DEFAULT_HOME
    return Path(home).expanduser().absolute()
