"""Errors of the blob store.

BlobError                 the blob store cannot do what was asked
├── BlobNotFound          no blob has that address (old name BlobNotFoundError)
├── BlobKeyError          a key file is missing, unsafe (group/world-readable) or malformed
└── BlobIntegrityError    a blob's bytes fail a check; ``problem`` names which one
"""

from typing import Final, Literal

from orca.errors import OrcaError

#: What failed when a blob's bytes fail a check (:attr:`BlobIntegrityError.problem`).
Problem = Literal["header", "wrong-key", "truncated", "reordered", "tampered", "digest", "size"]
PROBLEMS: Final[tuple[Problem, ...]] = (  # every Problem, for validation and listings
    "header",
    "wrong-key",
    "truncated",
    "reordered",
    "tampered",
    "digest",
    "size",
)


class BlobError(OrcaError):
    """The blob store cannot do what was asked; the message names the path and a hint."""


class BlobNotFound(BlobError):
    """No blob has that address (never written, deleted by ``gc``, or the wrong home)."""


class BlobKeyError(BlobError):
    """A key file is missing, readable by others, or not a key: nothing is read or written."""


class BlobIntegrityError(BlobError):
    """A blob failed a check. ``problem`` says which, so callers (and people) can tell
    a crash (``truncated``) from an attack (``tampered``, ``reordered``) from a
    configuration mistake (``wrong-key``)."""

    def __init__(self, sha256: str, problem: Problem, detail: str) -> None:
        self.sha256 = sha256
        self.problem: Problem = problem
        self.detail = detail
        super().__init__(
            f"blob {sha256}: {problem}: {detail}; the blob is damaged, not repaired"
            " (`orca blobs verify` lists every damaged blob)"
        )
