"""Round trips, dedup, streaming reads and removal of the blob store."""

import io
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import orca.blobs
from orca.blobs import CHUNK_SIZE, Address, BlobError, BlobNotFound, BlobStore

EDGE_SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7]


def _data(n: int, seed: int = 0) -> bytes:
    """Half random (incompressible), half text: zstd shrinks it but segments still fill."""
    rnd = random.Random(seed)
    head = rnd.randbytes(n // 2)
    return head + (b"orca " * (n // 10 + 1))[: n - len(head)]


def test_public_surface() -> None:
    """__all__ is exactly the room's public names."""
    public = {n for n in dir(orca.blobs) if not n.startswith("_")}
    assert set(orca.blobs.__all__) == public - {"annotations"}


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_round_trip_edge_sizes(blobs: BlobStore, size: int) -> None:
    """Bytes and streams of segment-edge sizes come back identical under one address."""
    data = _data(size, size)
    a = blobs.put(data)
    assert a == Address(__import__("hashlib").sha256(data).hexdigest(), size)
    assert blobs.read(a) == data
    blobs.delete(a)
    assert blobs.put(io.BytesIO(data)) == a
    assert blobs.read(a) == data
    assert blobs.verify(a) == a


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(0, 5000), seed=st.integers(0, 2**32 - 1), stream=st.booleans())
def test_round_trip_random_sizes(small: BlobStore, size: int, seed: int, stream: bool) -> None:
    """Any size, put whole or streamed, reads back byte for byte (1 KiB segments)."""
    data = _data(size, seed)
    a = small.put(io.BytesIO(data) if stream else data)
    assert small.read(a) == data
    with small.open(a) as r:
        got = b"".join(iter(lambda: r.read(97), b""))
    assert got == data


def test_dedup_stores_once(blobs: BlobStore) -> None:
    """The same bytes twice make one file; different bytes another."""
    a = blobs.put(b"x" * 100_000)
    b = blobs.put(io.BytesIO(b"x" * 100_000))
    c = blobs.put(b"y" * 100_000)
    assert a == b != c
    assert sorted(i.sha256 for i in blobs.ls()) == sorted([a.sha256, c.sha256])


def test_stored_encrypted_and_sharded(blobs: BlobStore, home: Path) -> None:
    """The file sits at blobs/ab/cd/<sha> and holds no plaintext run of the input."""
    data = b"a secret prompt that must not be readable on disk " * 2000
    a = blobs.put(data)
    path = home / "blobs" / a.sha256[:2] / a.sha256[2:4] / a.sha256
    raw = path.read_bytes()
    assert b"secret prompt" not in raw
    assert len(raw) < len(data) // 10  # compressed before it was sealed


def test_open_reads_a_bounded_head(blobs: BlobStore) -> None:
    """read(n) returns at most n bytes: a slice never decodes the whole blob into memory."""
    data = _data(5 * CHUNK_SIZE)
    a = blobs.put(data)
    with blobs.open(a) as r:
        assert r.read(10) == data[:10]
        assert r.read(CHUNK_SIZE) == data[10 : 10 + CHUNK_SIZE]
    assert blobs.read(a, limit=4096) == data[:4096]


def test_missing_and_malformed_addresses(blobs: BlobStore) -> None:
    """An unknown address is BlobNotFound; a path-like one is refused before any I/O."""
    with pytest.raises(BlobNotFound):
        blobs.open("0" * 64)
    with pytest.raises(BlobError, match="not a blob address"):
        blobs.open("../../etc/passwd")
    with pytest.raises(BlobError, match="not a blob address"):
        Address.parse("sha256:zz:1")
    a = blobs.put(b"hello")
    assert Address.parse(str(a)) == a
    assert blobs.delete(a) is True
    assert blobs.delete(a) is False
    assert not blobs.exists(a)


def test_put_refuses_text(blobs: BlobStore) -> None:
    """A text or non-blocking stream is a caller mistake named in one line; nothing is stored."""
    with pytest.raises(BlobError, match="binary stream"):
        blobs.put(io.StringIO("text"))  # type: ignore[arg-type]

    class NotReady:
        def read(self, n: int = -1) -> bytes | None:
            return None

    with pytest.raises(BlobError, match="blocking stream"):
        blobs.put(NotReady())  # type: ignore[arg-type]
    assert list(blobs.ls()) == []
    assert os.listdir(blobs.root / "tmp") == []


def test_open_without_create_needs_a_store(tmp_path: Path) -> None:
    """Read-only users (the CLI's ls) get a clear error for a home without blobs."""
    with pytest.raises(BlobError, match="no blob store"):
        BlobStore.open(tmp_path, create=False)


def test_gc_keeps_referenced_and_young(blobs: BlobStore) -> None:
    """gc deletes unreferenced blobs past the grace period only, and dead writers' temps."""
    keep = blobs.put(b"keep" * 1000)
    drop = blobs.put(b"drop" * 1000)
    young = blobs.gc([keep])
    assert (young.removed, young.spared_young) == (0, 1)
    (blobs.root / "tmp" / "999999999-dead.put").write_bytes(b"partial")
    r = blobs.gc([keep], grace_s=0)
    assert (r.kept, r.removed, r.temps_removed) == (1, 1, 1)
    assert r.bytes_freed > 0
    assert blobs.exists(keep) and not blobs.exists(drop)


def test_old_name_of_blob_not_found_still_resolves() -> None:
    """orca.blobs.BlobNotFoundError (the name before BlobNotFound) works, with a warning."""
    import orca.blobs

    with pytest.warns(DeprecationWarning, match="BlobNotFound"):
        assert orca.blobs.BlobNotFoundError is BlobNotFound
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        orca.blobs.Missing  # noqa: B018
