"""Replay fixtures: ledgers captured from real runs must rebuild exactly the recorded state.

A change to the entry format or to the fold that would make an upgraded ORCA
read old ledgers differently fails here (regenerate only on purpose:
``fixtures/make_fixtures.py``).
"""

import json
import shutil
from pathlib import Path

import pytest

from orca.ledger import verify
from orca.orchestrator import read_state

FIXTURES = Path(__file__).with_name("fixtures")
NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "state.json").exists())


def test_there_are_fixtures() -> None:
    """The example, a chaos run and a simulated schedule are all captured."""
    assert NAMES == ["chaos", "simulation", "support_desk"]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_rebuilds_the_recorded_state(name: str, tmp_path: Path) -> None:
    """The ledger still verifies and folds to exactly the state recorded beside it."""
    home = tmp_path / name
    shutil.copytree(FIXTURES / name, home)
    report = verify(home)
    assert report.ok, [p.line() for p in report.problems[:3]]
    state = read_state(home)
    assert state.problems == []
    assert state.view() == json.loads((home / "state.json").read_text())
