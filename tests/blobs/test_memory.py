"""Bounded memory: putting and reading a blob many times larger than a segment allocates
about one segment's worth, whatever the size (Python allocations, traced)."""

import tracemalloc
from collections.abc import Iterator

import pytest

from orca.blobs import BlobStore

MB = 1024 * 1024


class Stream:
    """16 MB of half-random, half-text data, made one 256 KiB piece at a time."""

    def __init__(self, size: int) -> None:
        self._pieces = self._make(size)

    @staticmethod
    def _make(size: int) -> Iterator[bytes]:
        import random

        rng = random.Random(18)
        for _ in range(size // (256 * 1024)):
            yield (rng.randbytes(128 * 1024) + b"text " * (128 * 1024 // 5 + 1))[: 256 * 1024]

    def read(self, n: int = -1) -> bytes:
        return next(self._pieces, b"")


@pytest.mark.slow
def test_put_and_read_hold_a_bounded_amount(blobs: BlobStore) -> None:
    """Peak traced memory of put(stream) + streamed read of 16 MB stays under 4 MB."""
    tracemalloc.start()
    try:
        address = blobs.put(Stream(16 * MB))  # type: ignore[arg-type]
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        n = 0
        with blobs.open(address) as r:
            while chunk := r.read(256 * 1024):
                n += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == address.size == 16 * MB
    assert put_peak < 4 * MB, put_peak
    assert read_peak < 4 * MB, read_peak
