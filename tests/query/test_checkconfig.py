"""The ``[checks]`` table: defaults, exact overrides, and one clear line for a bad value."""

import subprocess
import sys
from pathlib import Path

import pytest

from orca._config import read_config
from orca.errors import ConfigError
from orca.query import CheckConfig


def test_defaults_are_the_documented_thresholds() -> None:
    """The numbers docs/checks.md promises."""
    c = CheckConfig()
    assert (c.tool_loop_repeats, c.rate_limit_run, c.context_bloat_steps) == (3, 3, 5)
    assert (c.context_overflow_margin, c.context_bloat_factor, c.cost_spike_factor) == (
        0.05,
        2.0,
        3.0,
    )
    assert c.cost_spike_min_traces == 20 and c.truncated_reasons == ("length", "max_tokens")


def test_table_overrides_and_windows() -> None:
    """Values from the table win; model windows match by longest prefix, overrides first."""
    c = CheckConfig.from_table({"rate_limit_run": 5, "context_windows": {"acme-": 8000}})
    assert c.rate_limit_run == 5
    assert c.window_of("acme-large") == 8000
    assert c.window_of("gpt-4o-2024-08-06") == 128_000 and c.window_of("gpt-4o-mini") == 128_000
    assert c.window_of("unknown") is None


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"tool_loop_repeat": 3}, "unknown key 'tool_loop_repeat'"),
        ({"tool_loop_repeats": 1}, "must be an integer ≥ 2"),
        ({"context_overflow_margin": 2}, "≤ 1"),
        ({"truncated_reasons": "length"}, "list of non-empty strings"),
        ({"context_windows": {"m": -1}}, "model = tokens"),
    ],
)
def test_bad_values_are_config_errors(table: dict[str, object], words: str) -> None:
    """Each bad value names its key and what it must be."""
    with pytest.raises(ConfigError, match=words):
        CheckConfig.from_table(table)


def test_bad_toml_and_cli_exit_2(home: Path) -> None:
    """A broken config.toml stops `orca check` with one line naming the file, exit 2."""
    assert read_config(home) == {}
    (home / "config.toml").write_text("[checks]\nrate_limit_run = \n")
    with pytest.raises(ConfigError, match=r"config\.toml is not valid TOML"):
        read_config(home)
    (home / "config.toml").write_text("[checks]\nrate_limit_run = 0\n")
    out = subprocess.run(
        [sys.executable, "-m", "orca", "check", "--list", "--home", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "[checks] rate_limit_run must be an integer ≥ 1" in out.stderr
