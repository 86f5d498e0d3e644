"""Damage is detected and named: flipped bytes, truncation, reordering, a wrong key."""

import random
import secrets
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.blobs import HEADER_BYTES, Address, BlobIntegrityError, BlobKeyError, BlobStore

SEGMENT = 1024 + 16 + 4  # 1 KiB segments: tag and length prefix included
_FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # each example rewrites its blob
DATA = random.Random(18).randbytes(10 * 1024 + 300)  # incompressible: 11 segments


def _stored(store: BlobStore) -> tuple[Address, Path, bytes]:
    store.delete(store.put(DATA))  # a damaged copy from an earlier example is not reused
    a = store.put(DATA)
    path = store.path(a)
    return a, path, path.read_bytes()


def _problem(store: BlobStore, a: Address) -> str:
    with pytest.raises(BlobIntegrityError) as err:
        store.verify(a)
    assert a.sha256 in str(err.value)
    return err.value.problem


@settings(max_examples=60, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_any_flipped_byte_is_an_integrity_error(small: BlobStore, where: float, bit: int) -> None:
    """Flip one bit anywhere in the file: reading fails, naming the blob and a problem."""
    a, path, raw = _stored(small)
    at = int(where * len(raw))
    damaged = bytearray(raw)
    damaged[at] ^= 1 << bit
    path.write_bytes(bytes(damaged))
    assert _problem(small, a) in {"header", "wrong-key", "tampered", "truncated", "reordered"}


@pytest.mark.parametrize("at", [3, HEADER_BYTES - 1, HEADER_BYTES + 100])
def test_flip_in_header_or_segment_is_named(small: BlobStore, at: int) -> None:
    """A header byte reads as 'header', a segment byte as 'tampered'."""
    a, path, raw = _stored(small)
    damaged = bytearray(raw)
    damaged[at] ^= 0x40
    path.write_bytes(bytes(damaged))
    assert _problem(small, a) == ("header" if at < HEADER_BYTES else "tampered")


def test_truncation_at_every_segment_is_named(small: BlobStore) -> None:
    """Cutting the file at any segment boundary, or inside one, reads as 'truncated'."""
    a, path, raw = _stored(small)
    cuts = [HEADER_BYTES + k * SEGMENT for k in range(len(raw) // SEGMENT + 1)]
    cuts += [c + 7 for c in cuts] + [len(raw) - 1, 10]
    for cut in sorted(set(c for c in cuts if c < len(raw))):
        path.write_bytes(raw[:cut])
        assert _problem(small, a) == "truncated", cut


@settings(max_examples=30, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(pair=st.lists(st.integers(0, 10), min_size=2, max_size=2, unique=True))
def test_swapped_segments_are_named_reordered(small: BlobStore, pair: list[int]) -> None:
    """Swapping any two of the 11 segments (the last one included) reads as 'reordered'."""
    i, j = pair
    a, path, raw = _stored(small)
    body = raw[HEADER_BYTES:]
    segs = [body[k : k + SEGMENT] for k in range(0, len(body), SEGMENT)]
    assert len(segs) == 11
    segs[i], segs[j] = segs[j], segs[i]
    path.write_bytes(raw[:HEADER_BYTES] + b"".join(segs))
    assert _problem(small, a) == "reordered"


def test_appended_bytes_are_tampering(small: BlobStore) -> None:
    """Bytes after the last segment are not ignored."""
    a, path, raw = _stored(small)
    path.write_bytes(raw + b"\0\0\0\0")
    assert _problem(small, a) == "tampered"


def test_wrong_key_is_named(small: BlobStore) -> None:
    """A key file replaced by another key reads as 'wrong-key', before any segment is tried."""
    a, _, _ = _stored(small)
    kid = small.keys.current_id().hex()
    key_file = small.keys.root / f"{kid}.key"
    key_file.write_text(secrets.token_hex(32))
    fresh = BlobStore.open(small.root.parent, chunk_size=1024)
    assert _problem(fresh, a) == "wrong-key"


def test_removed_key_is_named(small: BlobStore) -> None:
    """A blob whose key file is gone says which key it needs."""
    a, _, _ = _stored(small)
    kid = small.keys.current_id().hex()
    small.rotate_key()
    (small.keys.root / f"{kid}.key").unlink()
    with pytest.raises(BlobIntegrityError, match=kid):
        small.verify(a)


def test_a_blob_under_another_name_is_a_header_problem(small: BlobStore) -> None:
    """A file copied to another blob's path is caught: the header names its own digest."""
    a, _, raw = _stored(small)
    b = small.put(b"other")
    small.path(b).write_bytes(raw)
    assert _problem(small, b) == "header"
    assert small.verify(a) == a


def test_group_readable_key_is_refused(small: BlobStore) -> None:
    """A key file others can read stops reading and writing, with the chmod to run."""
    a, _, _ = _stored(small)
    kid = small.keys.current_id().hex()
    key_file = small.keys.root / f"{kid}.key"
    key_file.chmod(0o640)
    fresh = BlobStore.open(small.root.parent, chunk_size=1024)
    with pytest.raises(BlobKeyError, match="chmod 600"):
        fresh.read(a)
    with pytest.raises(BlobKeyError, match="group or others"):
        fresh.put(b"new")
    key_file.chmod(0o600)
    assert fresh.read(a) == DATA


def test_key_files_are_owner_only(small: BlobStore) -> None:
    """The store creates its key directory 0700 and key files 0600."""
    assert small.keys.root.stat().st_mode & 0o777 == 0o700
    for p in small.keys.root.glob("*.key"):
        assert p.stat().st_mode & 0o777 == 0o600


def test_oversize_segment_length_is_rejected_before_reading(small: BlobStore) -> None:
    """A length prefix beyond chunk size + tag is refused without allocating it."""
    a, path, raw = _stored(small)
    damaged = bytearray(raw)
    damaged[HEADER_BYTES : HEADER_BYTES + 4] = (2**31).to_bytes(4, "big")
    path.write_bytes(bytes(damaged))
    with pytest.raises(BlobIntegrityError, match="claims 2147483648 bytes"):
        small.verify(a)
