"""The Merkle code against the RFC 9162 / CT vectors, and against itself for random trees."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca.ledger import merkle

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "testdata" / "rfc9162-merkle-vectors.json").read_text()
)
LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = {int(k): bytes.fromhex(v) for k, v in VECTORS["roots"].items()}


def test_empty_root() -> None:
    """The empty tree's root is SHA-256 of nothing."""
    assert merkle.root([]) == bytes.fromhex(VECTORS["empty_root"]) == merkle.EMPTY_ROOT
    assert merkle.Accumulator().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots(size: int) -> None:
    """Recursive MTH and the incremental accumulator both give the vector roots."""
    assert merkle.root(LEAVES[:size]) == ROOTS[size]
    acc = merkle.Accumulator()
    for leaf in LEAVES[:size]:
        acc.push(leaf)
    assert acc.root() == ROOTS[size]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    """Generated proofs equal the vectors, and the vectors verify; any changed hash fails."""
    index, size = case["index"], case["size"]
    proof = [bytes.fromhex(p) for p in case["proof"]]
    assert merkle.inclusion_proof(index, LEAVES[:size]) == proof
    assert merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not merkle.verify_inclusion(index, size, LEAVES[index], bad, ROOTS[size])
    assert not merkle.verify_inclusion(index, size, LEAVES[index], [*proof, LEAVES[0]], ROOTS[size])
    if proof:
        assert not merkle.verify_inclusion(index, size, LEAVES[index], proof[:-1], ROOTS[size])
    other = (index + 1) % size
    if size > 1:
        assert not merkle.verify_inclusion(other, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_consistency_vectors(case: dict[str, Any]) -> None:
    """Consistency vectors generate and verify; the (n, n) empty proof only with equal roots."""
    s1, s2 = case["size1"], case["size2"]
    proof = [bytes.fromhex(p) for p in case["proof"]]
    assert merkle.consistency_proof(s1, LEAVES[:s2]) == proof
    assert merkle.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], proof)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bad[i][:-1] + bytes([bad[i][-1] ^ 0x80])
        assert not merkle.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], bad)
    if s1 == s2:
        assert not merkle.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2 - 1 or 2], proof)
        assert not merkle.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], [ROOTS[s1]])
    else:
        assert not merkle.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], [])
        assert not merkle.verify_consistency(s1, s2, ROOTS[s2], ROOTS[s2], proof)


def test_rewritten_old_leaf_fails() -> None:
    """A tree that rewrote an old leaf cannot prove consistency with the honest old root."""
    honest = LEAVES[:8]
    forged = [merkle.leaf_hash(b"forged"), *LEAVES[1:8]]
    for s1 in range(1, 8):
        proof = merkle.consistency_proof(s1, forged)
        assert not merkle.verify_consistency(
            s1, 8, merkle.root(honest[:s1]), merkle.root(forged), proof
        )
        inc = merkle.inclusion_proof(0, forged)
        assert not merkle.verify_inclusion(0, 8, honest[0], inc, merkle.root(forged))


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_random_trees_round_trip(raw: list[bytes], data: st.DataObject) -> None:
    """For any tree: every inclusion and consistency proof generated here verifies."""
    leaves = [merkle.leaf_hash(x) for x in raw]
    n = len(leaves)
    acc = merkle.Accumulator()
    for leaf in leaves:
        acc.push(leaf)
    assert acc.root() == merkle.root(leaves)
    i = data.draw(st.integers(0, n - 1))
    assert merkle.verify_inclusion(i, n, leaves[i], merkle.inclusion_proof(i, leaves), acc.root())
    m = data.draw(st.integers(1, n))
    proof = merkle.consistency_proof(m, leaves)
    assert merkle.verify_consistency(m, n, merkle.root(leaves[:m]), acc.root(), proof)
