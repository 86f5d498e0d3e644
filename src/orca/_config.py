"""The home config: ``<home>/config.toml``, one table per room that reads it.

A leaf module (standard library only) so any room or the CLI reads the file
the same way: a missing file is an empty config; a file that is not TOML is a
:class:`~orca.errors.ConfigError` naming the file and the line, never a
traceback and never silently ignored. Each room validates its own table
(``[checks]`` → ``orca.query.CheckConfig``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from orca._home import resolve_home
from orca.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_FILE: Final = "config.toml"


def config_path(home: str | os.PathLike[str] | None = None) -> Path:
    """Where the home's config lives (it may not exist)."""
    return resolve_home(home) / CONFIG_FILE


def read_config(home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The whole home config as a dict; ``{}`` when there is no config file."""
    import tomllib  # not at import time: `import orca` stays cheap

    path = config_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}; fix its permissions") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix that line") from None


def config_table(home: str | os.PathLike[str] | None, name: str) -> dict[str, Any]:
    """One table (``[checks]``) of the home config; ``{}`` when absent."""
    table = read_config(home).get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config_path(home)}: `{name}` must be a table ([{name}])")
    return table
