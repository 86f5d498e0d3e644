"""The home's governance settings: ``<home>/config.yaml``.

Three keys are governance's (other rooms may keep their own keys beside them)::

    policy: closed            # open (the default for a fresh home) | closed
    policy_file: policy.yaml  # relative to the home
    budget:                   # the default budget of every run
      total_tokens: 200000
      cost_usd: 5.0
      per_agent: {billing: {cost_usd: 1.0}}

A fresh home is ``open`` so a newcomer is not blocked: with no policy file,
actions are allowed (PII still redacted). ``closed`` denies every governed
action until a valid policy is loaded.
"""

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from orca.governance._budget import Budget
from orca.governance._engine import MODES, Mode, PolicyEngine
from orca.governance._errors import BudgetError, PolicyFileError
from orca.governance._load import line_of, plain, read_yaml
from orca.governance._policy import Decision
from orca.governance._reload import load_policy

_log = logging.getLogger("orca.governance")
CONFIG_FILE = "config.yaml"
DEFAULT_POLICY_FILE = "policy.yaml"


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


def read_config(home: str | Path) -> GovernanceConfig:
    """The home's governance config; :class:`PolicyFileError` naming the line when it is bad."""
    root = Path(home)
    path = root / CONFIG_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return GovernanceConfig("open", root / DEFAULT_POLICY_FILE, None)
    except OSError as exc:
        raise PolicyFileError(str(path), None, None, f"cannot read: {exc.strerror}") from None
    tree = read_yaml(data, str(path))
    if tree is None:
        tree = {}
    if not isinstance(tree, Mapping):
        raise PolicyFileError(str(path), 1, None, "the config is a mapping of keys")
    mode = plain(tree.get("policy", "open"))
    if mode not in MODES:
        raise PolicyFileError(
            str(path), line_of(tree, ("policy",)), "policy", f"must be open or closed, not {mode!r}"
        )
    file = plain(tree.get("policy_file", DEFAULT_POLICY_FILE))
    if not isinstance(file, str) or not file.strip():
        raise PolicyFileError(
            str(path), line_of(tree, ("policy_file",)), "policy_file", "must be a file path"
        )
    try:
        budget = Budget.parse(plain(tree.get("budget")))
    except BudgetError as exc:
        raise PolicyFileError(str(path), line_of(tree, ("budget",)), "budget", str(exc)) from None
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
