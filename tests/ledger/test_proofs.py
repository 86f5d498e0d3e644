"""Inclusion and consistency proofs from a real ledger, against its signed checkpoints."""

from pathlib import Path

import orjson
import pytest

from orca.ledger import (
    Action,
    Ledger,
    ProofError,
    merkle,
    prove_consistency,
    prove_inclusion,
    read_checkpoints,
)
from orca.ledger._format import (
    Checkpoint,
    checkpoint_message,
    encode_ckpt,
    encode_entry,
    sha256_hex,
)
from orca.ledger._keys import load_or_create_signer
from orca.ledger._read import iter_hashes, ledger_path


def _fill(home: Path, n: int, every: int = 5) -> None:
    with Ledger.open(home, checkpoint_every=every) as led:
        for i in range(n):
            led.append({"kind": "capability.call", "args": {"i": i}})


def test_every_entry_has_a_verifying_inclusion_proof(home: Path) -> None:
    """Every entry of a 13-entry ledger has an inclusion proof that verifies."""
    _fill(home, 13)
    for entry_id in range(1, 14):
        proof = prove_inclusion(home, entry_id)
        assert proof.verify() and proof.checkpoint.size == 13
        assert proof.to_dict()["verified"] is True


def test_inclusion_proof_fails_for_a_different_leaf(home: Path) -> None:
    """A proof with another entry's hash swapped in does not verify."""
    _fill(home, 9)
    proof = prove_inclusion(home, 4)
    other = prove_inclusion(home, 5)
    forged = type(proof)(4, 3, other.entry_hash, other.leaf_hash, proof.path, proof.checkpoint)
    assert not forged.verify()


def test_consistency_between_all_checkpoints(home: Path) -> None:
    """Every older checkpoint is provably consistent with every newer one."""
    _fill(home, 17, every=4)
    sizes = [c.size for c in read_checkpoints(home)[0]]
    assert len(sizes) >= 4
    for old in sizes:
        for new in sizes:
            if old <= new:
                assert prove_consistency(home, old, new).verify(), (old, new)


def _rewrite_entry_2(home: Path) -> None:
    """Replace entry 2 with a self-consistent (re-hashed) forgery."""
    path = home / "ledger" / "ledger.ndjson"
    lines = path.read_bytes().splitlines(keepends=True)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"id":2,'))
    d = orjson.loads(lines[i])
    payload = orjson.dumps({"args": {"i": 999}, "result": None, "meta": None})
    lines[i], _ = encode_entry(
        2, d["ts"], Action(kind=d["kind"]), d["prev"], payload, sha256_hex(payload)
    )
    path.write_bytes(b"".join(lines))


def test_rewritten_old_entry_is_refused_by_both_proofs(home: Path) -> None:
    """After a rewrite the ledger no longer matches its checkpoints: no proof is handed out."""
    _fill(home, 10, every=3)
    _rewrite_entry_2(home)
    sizes = [c.size for c in read_checkpoints(home)[0]]
    with pytest.raises(ProofError, match="rewritten"):
        prove_consistency(home, sizes[0], sizes[-1])
    with pytest.raises(ProofError, match="rewritten"):
        prove_inclusion(home, 7)


def test_checkpoint_over_a_rewritten_tree_fails_consistency(home: Path) -> None:
    """An insider with the key checkpoints a rewritten history: consistency with the old fails."""
    _fill(home, 10, every=3)
    _rewrite_entry_2(home)
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in iter_hashes(ledger_path(home))[1]]
    signer = load_or_create_signer(home / "ledger")
    root = merkle.root(leaves).hex()
    msg = checkpoint_message(10, root, 1, signer.key_id)
    forged = Checkpoint(10, root, 1, signer.key_id, signer.sign(msg))
    with (home / "ledger" / "checkpoints.ndjson").open("ab") as f:
        f.write(encode_ckpt(forged) + b"\n")
    for old in (3, 6, 9):
        proof = prove_consistency(home, old, 10)
        assert proof.new == forged
        assert not proof.verify(), old
        assert proof.to_dict()["verified"] is False


def test_proof_errors_are_clear(home: Path) -> None:
    """Proofs with no checkpoint, no such entry, or a bad size range raise ProofError."""
    with pytest.raises(ProofError, match="no signed checkpoint"):
        prove_inclusion(home, 1)
    _fill(home, 3)
    with pytest.raises(ProofError, match="no entry 4 in the ledger"):
        prove_inclusion(home, 4)
    with pytest.raises(ProofError, match="no signed checkpoint at tree size 2"):
        prove_consistency(home, 2, 3)
    with pytest.raises(ProofError):
        prove_consistency(home, 3, 1)


def test_checkpoint_root_equals_recomputed_root(home: Path) -> None:
    """A checkpoint's root equals the Merkle root recomputed from the entries' hashes."""
    _fill(home, 6, every=100)
    from orca.ledger import read_entries

    leaves = [merkle.leaf_hash(bytes.fromhex(e.hash)) for e in read_entries(home).entries]
    (ckpt,) = read_checkpoints(home)[0]
    assert ckpt.size == 6 and merkle.root(leaves).hex() == ckpt.root
