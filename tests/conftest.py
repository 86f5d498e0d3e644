"""Fixtures shared by every room's tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orca.testing import temp_home


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh ORCA home directory for one test."""
    with temp_home() as path:
        yield path
