"""Fixtures shared by every room's tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from orca.testing import temp_home

# No wall-clock thresholds in unit tests: hypothesis's default 200 ms deadline per
# example failed at random on a loaded machine (test_round_trip, test_lines_partition…).
settings.register_profile("orca", deadline=None)
settings.load_profile("orca")


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh ORCA home directory for one test."""
    with temp_home() as path:
        yield path
