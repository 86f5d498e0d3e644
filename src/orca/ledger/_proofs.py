"""Inclusion and consistency proofs against signed checkpoints (``orca ledger prove|consistency``).

A proof is only as good as the root it ends in, so both kinds end in a
checkpoint's root and the checkpoint's signature is checked first. The proofs
are generated from the ledger's leaves and verified with the same RFC 9162
code the test vectors check, before they are handed out.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orca.ledger import merkle
from orca.ledger._errors import ProofError
from orca.ledger._format import Checkpoint
from orca.ledger._keys import TrustedKeys, keys_dir
from orca.ledger._read import iter_hashes, ledger_path, read_checkpoints


def _unhex(*values: str) -> list[bytes] | None:
    """The bytes of hex strings, or None when one is not hex (a proof that cannot hold)."""
    try:
        return [bytes.fromhex(v) for v in values]
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry ``entry_id`` (leaf ``index``) is in the tree of ``checkpoint``."""

    entry_id: int
    index: int
    entry_hash: str
    leaf_hash: str
    path: list[str]
    checkpoint: Checkpoint

    def verify(self) -> bool:
        """True when the path puts the entry under the checkpoint's root (False when malformed)."""
        raw = _unhex(self.entry_hash, self.checkpoint.root, *self.path)
        if raw is None:
            return False
        entry, root, *path = raw
        return merkle.verify_inclusion(
            self.index, self.checkpoint.size, merkle.leaf_hash(entry), path, root
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry_id,
            "leaf_index": self.index,
            "entry_hash": self.entry_hash,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.checkpoint.size,
            "root": self.checkpoint.root,
            "checkpoint": {**self.checkpoint.to_dict(), "sig": self.checkpoint.sig},
            "path": self.path,
            "verified": self.verify(),
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``old`` is a prefix of the tree of ``new``: nothing earlier was rewritten."""

    old: Checkpoint
    new: Checkpoint
    path: list[str]

    def verify(self) -> bool:
        """True when the path proves the old tree a prefix of the new (False when malformed)."""
        raw = _unhex(self.old.root, self.new.root, *self.path)
        if raw is None:
            return False
        old, new, *path = raw
        return merkle.verify_consistency(self.old.size, self.new.size, old, new, path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": {**self.old.to_dict(), "sig": self.old.sig},
            "new": {**self.new.to_dict(), "sig": self.new.sig},
            "path": self.path,
            "verified": self.verify(),
        }


def _signed_checkpoints(source: Path, trusted: TrustedKeys | None) -> list[Checkpoint]:
    path = ledger_path(source)
    trusted = trusted if trusted is not None else TrustedKeys.from_dir(keys_dir(path.parent))
    ckpts, _ = read_checkpoints(path)
    good = [c for c in ckpts if c.key in trusted and trusted.verify(c.key, c.sig, c.message())]
    if not good:
        raise ProofError(
            f"no signed checkpoint in {path.parent}; "
            "close the ledger or run `orca ledger checkpoint`"
        )
    return good


def _leaves(source: Path, size: int) -> tuple[list[int], list[str], list[bytes]]:
    ids, hashes = iter_hashes(ledger_path(source))
    if len(hashes) < size:
        raise ProofError(
            f"the checkpoint covers {size} entries but the ledger holds {len(hashes)}; "
            "run `orca verify`"
        )
    hashes = hashes[:size]
    return ids[:size], hashes, [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]


def prove_inclusion(
    source: Path, entry_id: int, *, trusted: TrustedKeys | None = None
) -> InclusionProof:
    """An inclusion proof of ``entry_id`` against the latest signed checkpoint."""
    ckpt = _signed_checkpoints(source, trusted)[-1]
    if not 0 < entry_id <= ckpt.size:
        ids, _ = iter_hashes(ledger_path(source))
        last = ids[-1] if ids else 0
        if not 0 < entry_id <= last:
            raise ProofError(f"no entry {entry_id} in the ledger (the last is {last})")
        raise ProofError(
            f"entry {entry_id} is not covered by the latest checkpoint (size {ckpt.size}); "
            "run `orca ledger checkpoint` to cover newer entries"
        )
    ids, hashes, leaves = _leaves(source, ckpt.size)
    index = entry_id - 1
    if ids[index] != entry_id:
        raise ProofError(
            f"leaf {index} holds entry {ids[index]}, not {entry_id}: run `orca verify`"
        )
    if merkle.root(leaves).hex() != ckpt.root:
        raise ProofError(
            f"the ledger's first {ckpt.size} entries no longer have the checkpointed root: "
            "the ledger was rewritten; run `orca verify`"
        )
    proof = InclusionProof(
        entry_id,
        index,
        hashes[index],
        leaves[index].hex(),
        [p.hex() for p in merkle.inclusion_proof(index, leaves)],
        ckpt,
    )
    if not proof.verify():  # cannot happen with an honest tree; never hand out a bad proof
        raise ProofError(f"the inclusion proof for entry {entry_id} does not verify")
    return proof


def prove_consistency(
    source: Path, old: int, new: int, *, trusted: TrustedKeys | None = None
) -> ConsistencyProof:
    """A consistency proof between the signed checkpoints of tree sizes ``old`` and ``new``.

    The proof is built from the ledger as it is now, which must still match
    the ``new`` checkpoint (else :class:`ProofError`); if that checkpoint was
    made over a rewritten history, :meth:`ConsistencyProof.verify` is False.
    """
    if not 0 < old <= new:
        raise ProofError(f"sizes must satisfy 0 < OLD <= NEW, got {old} and {new}")
    ckpts = {c.size: c for c in _signed_checkpoints(source, trusted)}
    for size in (old, new):
        if size not in ckpts:
            raise ProofError(
                f"no signed checkpoint at tree size {size}; known sizes: {sorted(ckpts)[-10:]}"
            )
    _, _, leaves = _leaves(source, new)
    if merkle.root(leaves).hex() != ckpts[new].root:
        raise ProofError(
            f"the ledger's first {new} entries no longer have the checkpointed root: "
            "the ledger was rewritten; run `orca verify`"
        )
    path = [p.hex() for p in merkle.consistency_proof(old, leaves)]
    return ConsistencyProof(ckpts[old], ckpts[new], path)
