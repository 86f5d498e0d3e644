"""RFC 9162 (Certificate Transparency v2) Merkle trees: roots, proofs, verification.

Written here rather than taken from a library because the ledger's promise rests
on it: every function is checked against the RFC 9162 / CT test vectors in
``tests/testdata``. Leaves are hashed as ``SHA-256(0x00 || leaf)`` and nodes as
``SHA-256(0x01 || left || right)``, so a leaf can never pose as a node.

Proof *generation* follows the RFC's recursive definitions (MTH, PATH, PROOF)
over a list of leaf hashes; *verification* follows sections 2.1.3.2 and
2.1.4.2, plus the one case the RFC leaves out (equal sizes, empty proof).
A proof that cannot be given raises :class:`~orca.ledger.ProofError`; a proof
that does not hold verifies as False (never an exception).
"""

from collections.abc import Sequence
from hashlib import sha256
from typing import Final

from orca.ledger._errors import ProofError

EMPTY_ROOT: Final = sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves (``leaf_hash`` of each input)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): the audit path of leaf ``index`` in the tree of ``leaves``."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ProofError(f"leaf index {index} outside a tree of size {n}; ask for 0..{n - 1}")
    path: list[bytes] = []
    lo, hi = 0, n
    # Walk down iteratively, collecting siblings, then reverse (the path runs leaf → root).
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(size1: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(size1, D[n]): proves the tree of the first ``size1`` leaves is a prefix."""
    n = len(leaves)
    if not 0 < size1 <= n:
        raise ProofError(f"old size {size1} must be in 1..{n}")
    return _subproof(size1, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` put leaf hash ``leaf`` at ``index`` under the root?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, plus: equal sizes verify only with an empty proof and equal roots."""
    if size1 == size2:
        return not proof and root1 == root2
    if not 0 < size1 < size2 or not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


class Accumulator:
    """The running root of an append-only tree in O(log n) memory (a compact range).

    Holds the roots of the perfect subtrees the leaves so far decompose into,
    largest first; appending merges equal-sized neighbours like binary carry.
    The ledger keeps one to sign checkpoints without holding every leaf.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, subtree root)
        self.size = 0

    def push(self, leaf: bytes) -> None:
        """Append one already-hashed leaf."""
        stack = self._stack
        h = leaf
        width = 1
        while stack and stack[-1][0] == width:
            h = sha256(b"\x01" + stack.pop()[1] + h).digest()  # node_hash, inlined (hot)
            width <<= 1
        stack.append((width, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h

    def state(self) -> list[tuple[int, bytes]]:
        """The perfect subtrees so far as (leaf count, root), largest first: all it holds."""
        return list(self._stack)

    @classmethod
    def from_state(cls, state: Sequence[tuple[int, bytes]]) -> "Accumulator":
        """The accumulator whose :meth:`state` is ``state`` (a saved ledger head)."""
        acc = cls()
        acc._stack = [(int(w), bytes(h)) for w, h in state]
        acc.size = sum(w for w, _ in acc._stack)
        return acc

    def copy(self) -> "Accumulator":
        other = Accumulator()
        other._stack = list(self._stack)
        other.size = self.size
        return other
