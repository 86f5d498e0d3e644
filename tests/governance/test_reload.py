"""Hot reload: good → broken (previous stays, rejection reported) → good; and the home config."""

import time
from pathlib import Path

import pytest

from orca.governance import (
    GovernanceMetrics,
    PolicyEngine,
    PolicyFileError,
    PolicyReloader,
    ReloadOutcome,
    open_engine,
    read_config,
)

DENY_SHELL = "rules:\n  - {name: no-shell, phase: pre_submit, action: deny, match: {tool: shell}}\n"
DENY_SEARCH = (
    "rules:\n  - {name: no-search, phase: pre_submit, action: deny, match: {tool: search}}\n"
)
BROKEN = "rules:\n  - {name: x, phase: pre_submit, action: explode}\n"


def _allowed(engine: PolicyEngine, tool: str) -> bool:
    return engine.check("pre_submit", tool=tool).allowed


def test_good_broken_good_with_the_step_function(tmp_path: Path) -> None:
    """A broken file is rejected and recorded; the previous policy keeps deciding."""
    path = tmp_path / "policy.yaml"
    path.write_text(DENY_SHELL)
    engine = PolicyEngine()
    outcomes: list[ReloadOutcome] = []
    metrics = GovernanceMetrics()

    def hook(o: ReloadOutcome) -> None:
        outcomes.append(o)
        metrics.on_reload(o)

    reloader = PolicyReloader(engine, path, on_outcome=hook)
    assert reloader.reload().status == "loaded"
    assert not _allowed(engine, "shell") and _allowed(engine, "search")
    first = engine.policy

    path.write_text(BROKEN)
    rejected = reloader.reload()
    assert rejected.status == "rejected" and "rules[0].action" in (rejected.error or "")
    assert engine.policy is first
    assert not _allowed(engine, "shell")
    assert "explode" not in repr(rejected.audit())  # the entry names where and why, not content
    assert reloader.rejected == 1 and metrics.reload_rejected == 1

    path.unlink()
    assert reloader.reload().status == "rejected"  # a vanished file is not "no policy"
    assert engine.policy is first

    path.write_text(DENY_SEARCH)
    assert reloader.reload().status == "loaded"
    assert _allowed(engine, "shell") and not _allowed(engine, "search")
    assert reloader.reload().status == "unchanged"
    assert [o.status for o in outcomes] == ["loaded", "rejected", "rejected", "loaded"]


def _wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_the_watcher_thread_reloads_on_change(tmp_path: Path) -> None:
    """With watchfiles running, edits apply; a broken edit is rejected and the old policy stays."""
    path = tmp_path / "policy.yaml"
    path.write_text(DENY_SHELL)
    engine = PolicyEngine()
    outcomes: list[ReloadOutcome] = []
    reloader = PolicyReloader(engine, path, on_outcome=outcomes.append)
    reloader.reload()
    reloader.start()
    try:
        time.sleep(0.3)  # let the watcher take its first look at the directory
        path.write_text(BROKEN)
        assert _wait_for(lambda: any(o.status == "rejected" for o in outcomes))
        assert not _allowed(engine, "shell")
        path.write_text(DENY_SEARCH)
        assert _wait_for(lambda: engine.policy is not None and not _allowed(engine, "search"))
        assert _allowed(engine, "shell")
    finally:
        reloader.stop()


def test_home_config_defaults_to_open_and_can_close(tmp_path: Path) -> None:
    """A fresh home is open; `policy: closed` fails closed until a valid policy exists."""
    setup = open_engine(tmp_path)
    assert setup.config.mode == "open" and setup.error is None
    assert setup.engine.check("pre_submit").allowed
    (tmp_path / "config.toml").write_text(
        'policy = "closed"\npolicy_file = "rules/p.yaml"\nbudget = {total_tokens = 10}\n'
    )
    setup = open_engine(tmp_path)
    assert setup.config.policy_path == tmp_path / "rules" / "p.yaml"
    assert setup.config.budget is not None and setup.config.budget.total_tokens == 10
    assert setup.engine.check("pre_submit").reasons == ("no-policy",)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "p.yaml").write_text(BROKEN)
    setup = open_engine(tmp_path)
    assert setup.error is not None and "rules[0].action" in setup.error
    assert not setup.engine.check("pre_submit").allowed
    (tmp_path / "rules" / "p.yaml").write_text(DENY_SHELL)
    setup = open_engine(tmp_path)
    assert setup.engine.check("pre_submit", tool="search").allowed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('policy = "ajar"\n', "config.toml:1: policy: must be open or closed"),
        ('policy_file = ""\n', "policy_file"),
        ("x = 1\n\nbudget = {tokens = 5}\n", "config.toml:3: budget"),
        ("- a\n", "not valid TOML"),
    ],
)
def test_a_bad_config_names_the_line(tmp_path: Path, text: str, words: str) -> None:
    """config.toml errors say file, line and key."""
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(PolicyFileError, match=words):
        read_config(tmp_path)
