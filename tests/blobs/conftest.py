"""Fixtures of the blob tests: a blob store in a fresh temporary home."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orca.blobs import BlobStore


@pytest.fixture
def blobs(home: Path) -> Iterator[BlobStore]:
    """A blob store with the real 64 KiB segments."""
    yield BlobStore.open(home)


@pytest.fixture
def small(home: Path) -> Iterator[BlobStore]:
    """A blob store with 1 KiB segments: many segments from little data, so tests stay fast."""
    yield BlobStore.open(home, chunk_size=1024)
