"""References to blobs inside JSON values: how a ledger payload points at a blob.

A payload too big for a ledger entry travels by reference: the entry holds
``{"orca.blob": "sha256:<hex>:<size>"}`` where the value would be, so the
ledger's hash chain commits to the address (and through it, the content).
``forget`` erases the entry's payload, reference included; the next
``orca blobs gc`` then finds the blob unreferenced and deletes it, while the
chain still verifies ("payload erased, commitment intact").
"""

from collections.abc import Iterator
from typing import Final

from orca.blobs._errors import BlobError
from orca.blobs._rows import Address

REF_KEY: Final = "orca.blob"  # the JSON key that marks a value as a blob reference


def blob_ref(address: Address) -> dict[str, str]:
    """The JSON value that stands for a blob inside a payload."""
    return {REF_KEY: str(address)}


def refs_in(value: object) -> Iterator[Address]:
    """Every blob reference inside a JSON value (dicts and lists walked, depth-first)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            ref = v.get(REF_KEY)
            if len(v) == 1 and isinstance(ref, str):
                try:
                    yield Address.parse(ref)
                except BlobError:
                    pass  # shaped like a reference but not one: plain data
                continue
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
