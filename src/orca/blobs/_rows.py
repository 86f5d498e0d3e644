"""The named rows of the blob store: an address, a listing row, what gc and rotation did."""

import re
from typing import Final, NamedTuple

from orca.blobs._errors import BlobError

SHA_HEX: Final = re.compile(r"[0-9a-f]{64}")
# The blob store's directory under the ORCA home (keys/ inside); here, not in _store, so
# naming it loads no cipher.
BLOBS_DIR: Final = "blobs"


class Address(NamedTuple):
    """A blob's name: the sha256 of its plaintext (hex) and its size in bytes."""

    sha256: str
    size: int

    def __str__(self) -> str:
        return f"sha256:{self.sha256}:{self.size}"

    @classmethod
    def parse(cls, text: str) -> "Address":
        """The inverse of ``str(address)``: ``sha256:<64 hex>:<size>``."""
        parts = text.split(":")
        if len(parts) != 3 or parts[0] != "sha256" or not SHA_HEX.fullmatch(parts[1]):
            raise BlobError(f"{text!r} is not a blob address (sha256:<64 hex digits>:<size>)")
        try:
            size = int(parts[2])
        except ValueError:
            size = -1
        if size < 0:
            raise BlobError(f"{text!r} is not a blob address: the size is not a whole number")
        return cls(parts[1], size)


class BlobInfo(NamedTuple):
    """One stored blob as ``ls`` sees it (from its header; ``problem`` if that is unreadable)."""

    sha256: str
    size: int | None
    stored_bytes: int
    key_id: str | None
    mtime_ns: int
    problem: str | None


class GcResult(NamedTuple):
    """What one ``gc`` did: blobs kept and removed, bytes freed, stale temps cleared."""

    kept: int  # blobs still referenced
    removed: int  # unreferenced blobs deleted
    bytes_freed: int  # stored bytes of those blobs
    temps_removed: int  # temp files of dead (or day-old) writers deleted
    spared_young: int  # unreferenced, but younger than the grace period


class RotateResult(NamedTuple):
    """What one ``reencrypt`` did: the key now current, blobs re-sealed, keys retired."""

    key_id: str  # the current key
    reencrypted: int  # blobs re-sealed under the current key in this run
    remaining: int  # blobs still under an older key (with --limit)
    retired: list[str]  # key ids deleted because no blob names them any more


def sha_of(address: Address | str) -> tuple[str, int | None]:
    sha, size = (address.sha256, address.size) if isinstance(address, Address) else (address, None)
    if not isinstance(sha, str) or not SHA_HEX.fullmatch(sha):
        raise BlobError(f"{sha!r} is not a blob address (64 lowercase hex digits)")
    return sha, size
