"""Blobs: content-addressed, zstd-compressed, AES-256-GCM-encrypted payloads, read as streams.

``BlobStore.open(home)``; ``put(bytes | stream) -> Address(sha256, size)``;
``open(address)`` gives a readable stream checked as it is read; ``exists``,
``delete``, ``verify``, ``ls``, ``gc(referenced)``, ``rotate_key`` and
``reencrypt``. Memory stays bounded for any blob size (one 64 KiB segment at
a time). Damage is named (:class:`BlobIntegrityError` ``.problem``), never
repaired. The format is described in ``_format``; keys in ``_keys``.

A payload that points at a blob holds ``blob_ref(address)``; ``refs_in(value)``
finds such references (``orca blobs gc`` keeps what the ledger references).

Imports nothing of orca but ``errors`` (and the lazy-name helper): the store
and the orchestrator hand it bytes and keep addresses. Names load on first
use, so naming an address costs no cipher import.
"""

from typing import TYPE_CHECKING, Final

from orca._lazyattr import lazy_attrs as _lazy_attrs

if TYPE_CHECKING:
    from orca.blobs._errors import (
        PROBLEMS,
        BlobError,
        BlobIntegrityError,
        BlobKeyError,
        BlobNotFound,
        Problem,
    )
    from orca.blobs._format import CHUNK_SIZE, HEADER_BYTES, MAX_CHUNK_SIZE
    from orca.blobs._refs import REF_KEY, blob_ref, refs_in
    from orca.blobs._rows import BLOBS_DIR, Address, BlobInfo, GcResult, RotateResult
    from orca.blobs._store import GC_GRACE_S, BlobStore

# Each name by its module, imported on first use: a store that names an address or the
# blobs directory loads no cipher (cryptography) until a blob is really read or written.
_LAZY: Final = {
    "orca.blobs._errors": (
        "PROBLEMS",
        "BlobError",
        "BlobIntegrityError",
        "BlobKeyError",
        "BlobNotFound",
        "Problem",
    ),
    "orca.blobs._format": ("CHUNK_SIZE", "HEADER_BYTES", "MAX_CHUNK_SIZE"),
    "orca.blobs._refs": ("REF_KEY", "blob_ref", "refs_in"),
    "orca.blobs._rows": ("BLOBS_DIR", "Address", "BlobInfo", "GcResult", "RotateResult"),
    "orca.blobs._store": ("GC_GRACE_S", "BlobStore"),
}
_getattr, __dir__ = _lazy_attrs(__name__, _LAZY, globals())


def __getattr__(name: str) -> object:
    """A public name, imported on first use; ``BlobNotFoundError`` (the old name of
    :class:`BlobNotFound`) still resolves, with a warning."""
    if name == "BlobNotFoundError":
        import warnings

        warnings.warn(
            "orca.blobs.BlobNotFoundError is now orca.blobs.BlobNotFound; use the new name",
            DeprecationWarning,
            stacklevel=2,
        )
        return _getattr("BlobNotFound")
    return _getattr(name)


__all__ = [
    "BLOBS_DIR",
    "CHUNK_SIZE",
    "GC_GRACE_S",
    "HEADER_BYTES",
    "MAX_CHUNK_SIZE",
    "PROBLEMS",
    "REF_KEY",
    "Address",
    "BlobError",
    "BlobInfo",
    "BlobIntegrityError",
    "BlobKeyError",
    "BlobNotFound",
    "BlobStore",
    "GcResult",
    "Problem",
    "RotateResult",
    "blob_ref",
    "refs_in",
]
