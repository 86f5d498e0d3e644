"""Envelope payloads by reference: big ones go to the blob store, the ledger keeps the address.

Peers cap payloads (Temporal 2 MB, Inngest 4 MB per step); the ledger caps an
entry's size too. Above ``PAYLOAD_INLINE_MAX`` bytes of JSON, the payload is
put in the home's blob store first (durable before the entry that names it)
and the ``envelope.accepted`` entry carries ``blob_ref(address)`` in its place
plus ``"payload_by_ref": true``. The chain commits to the address, and the
address to the bytes. ``orca ledger forget`` erases the entry's payload — the
reference with it — and deletes the blob unless something else references it
(``orca blobs gc`` does the same for any unreferenced blob), while
``orca verify`` still passes. The entry-size limit applies to the envelope,
not to its payload.
"""

from pathlib import Path
from typing import Any, Final

import orjson

from orca.blobs import BLOBS_DIR, BlobStore, blob_ref, refs_in

PAYLOAD_INLINE_MAX: Final = 256 * 1024
BY_REF: Final = "payload_by_ref"


class Payloads:
    """Packs payloads for the ledger and unpacks them for agents and callers."""

    def __init__(self, home: Path, inline_max: int = PAYLOAD_INLINE_MAX) -> None:
        self.home = home
        self.inline_max = inline_max
        self._blobs: BlobStore | None = None

    def blobs(self) -> BlobStore:
        if self._blobs is None:
            made = (self.home / BLOBS_DIR / "keys").is_dir()
            self._blobs = BlobStore.open(self.home, create=not made)
        return self._blobs

    def pack(self, payload: Any) -> dict[str, Any]:
        """The payload fields of an ``envelope.accepted`` entry (as it reads back from JSON)."""
        data = orjson.dumps(payload)
        if len(data) <= self.inline_max:
            return {"payload": orjson.loads(data)}
        return {"payload": blob_ref(self.blobs().put(data)), BY_REF: True}

    def unpack(self, envelope: dict[str, Any]) -> Any:
        """The payload of a recorded envelope: read back from its blob when it went by reference."""
        payload = envelope.get("payload")
        if not envelope.get(BY_REF):
            return payload
        (address,) = refs_in(payload)
        return orjson.loads(self.blobs().read(address))
