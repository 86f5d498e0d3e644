"""The home's governance settings: three keys of the home config, ``<home>/config.toml``.

The one home config (``orca._config``) holds every room's settings; these are
governance's (``[checks]`` and others sit beside them)::

    policy = "closed"             # "open" (the default for a fresh home) | "closed"
    policy_file = "policy.yaml"   # relative to the home
    [budget]                      # the default budget of every run
    total_tokens = 200000
    cost_usd = 5.0
    per_agent = {billing = {cost_usd = 1.0}}

A fresh home is ``open`` so a newcomer is not blocked: with no policy file,
actions are allowed (PII still redacted). ``closed`` denies every governed
action until a valid policy is loaded.
"""

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from orca._config import CONFIG_FILE
from orca._config import read_config as read_home_config
from orca.errors import ConfigError
from orca.governance._budget import Budget
from orca.governance._engine import MODES, Mode, PolicyEngine
from orca.governance._errors import BudgetError, PolicyFileError
from orca.governance._policy import Decision
from orca.governance._reload import load_policy

_log = logging.getLogger("orca.governance")
DEFAULT_POLICY_FILE = "policy.yaml"  # under the home, when config.toml names no `policy_file`


class GovernanceConfig(NamedTuple):
    """What the home says: open or closed, which policy file, the default budget."""

    mode: Mode
    policy_path: Path
    budget: Budget | None


class EngineSetup(NamedTuple):
    """An engine ready to decide, the config it came from, and why no policy is loaded."""

    engine: PolicyEngine
    config: GovernanceConfig
    error: str | None


def _line(path: Path, key: str) -> int | None:
    """The line where a top-level key or table is set (TOML parsers do not keep lines)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    pat = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)")
    return next((i for i, ln in enumerate(lines, 1) if pat.match(ln)), None)


def read_config(home: str | Path) -> GovernanceConfig:
    """The home's governance config; :class:`PolicyFileError` naming the line when it is bad."""
    root = Path(home)
    path = root / CONFIG_FILE
    try:
        tree = read_home_config(root)
    except ConfigError as exc:
        raise PolicyFileError(str(path), None, None, str(exc)) from None
    mode = tree.get("policy", "open")
    if mode not in MODES:
        raise PolicyFileError(
            str(path), _line(path, "policy"), "policy", f"must be open or closed, not {mode!r}"
        )
    file = tree.get("policy_file", DEFAULT_POLICY_FILE)
    if not isinstance(file, str) or not file.strip():
        raise PolicyFileError(
            str(path), _line(path, "policy_file"), "policy_file", "must be a file path"
        )
    try:
        budget = Budget.parse(tree.get("budget"))
    except BudgetError as exc:
        raise PolicyFileError(str(path), _line(path, "budget"), "budget", str(exc)) from None
    policy_path = Path(file) if Path(file).is_absolute() else root / file
    return GovernanceConfig(mode, policy_path, budget)


def open_engine(
    home: str | Path, *, on_decision: Callable[[Decision], None] | None = None
) -> EngineSetup:
    """An engine for the home: its policy file loaded if present and valid, else none (fail-closed
    unless the home is ``open``). A bad config is raised; a bad policy file is reported in
    ``error`` so the caller can record it and keep running with nothing allowed.
    """
    config = read_config(home)
    error: str | None = None
    policy = None
    if config.policy_path.exists():
        try:
            policy = load_policy(config.policy_path)
        except PolicyFileError as exc:
            error = str(exc)
            _log.warning("orca: policy not loaded (%s mode): %s", config.mode, exc)
    engine = PolicyEngine(policy, mode=config.mode, on_decision=on_decision)
    return EngineSetup(engine, config, error)
