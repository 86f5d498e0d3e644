"""Bad input to a public call raises an OrcaError subclass, never a bare ValueError/TypeError."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orca import OrcaError
from orca.errors import UsageError
from orca.governance import GovernanceError, PolicyEngine
from orca.ledger import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    Ledger,
    LedgerError,
    ProofError,
    merkle,
)
from orca.orchestrator import InvalidRequest, RetryPolicy, Usage, VirtualClock
from orca.store import Batch, Item, SQLiteStore, StoreError

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)


def only_orca_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``: its value, or None when it raised an OrcaError; anything else fails."""
    try:
        return call()
    except OrcaError:
        return None


def test_orca_error_is_importable_from_orca() -> None:
    """`from orca import OrcaError` is the base every room's error derives from."""
    import orca.errors

    assert OrcaError is orca.errors.OrcaError
    assert issubclass(StoreError, OrcaError) and issubclass(ProofError, OrcaError)


def test_store_group_by_is_a_usage_error(home: Path) -> None:
    """Any group_by string either groups or raises UsageError naming the known keys."""
    with SQLiteStore.open(home) as store:

        @given(key=st.text(max_size=12))
        def check(key: str) -> None:
            for call in (store.span_stats, store.span_groups):
                try:
                    list(call(group_by=key))
                except UsageError as exc:
                    assert "group_by must be one of" in str(exc)

        check()
        with pytest.raises(UsageError, match="got 'colour'"):
            store.span_groups(group_by="colour")


def test_a_batch_without_offsets_is_a_store_error_and_writes_nothing(home: Path) -> None:
    """A record whose source has no offset in the batch is refused whole, as a StoreError."""
    record = {"v": 1, "kind": "log", "ts": 1, "component": "w", "level": "info", "msg": "m"}
    with SQLiteStore.open(home) as store:
        with pytest.raises(StoreError, match=r"Batch\.offsets"):
            store.apply(Batch([Item(record, "seg", 0)]))
        assert store.totals().logs == 0 and store.offsets() == {}


@given(
    leaves=st.lists(st.binary(min_size=1, max_size=8), max_size=12),
    index=st.integers(-3, 15),
    size1=st.integers(-3, 15),
)
def test_merkle_proofs_raise_proof_error_or_verify(
    leaves: list[bytes], index: int, size1: int
) -> None:
    """A proof that cannot be given is a ProofError; one that is given verifies."""
    hashed = [merkle.leaf_hash(leaf) for leaf in leaves]
    n = len(hashed)
    root = merkle.root(hashed)
    try:
        path = merkle.inclusion_proof(index, hashed)
    except ProofError:
        assert not 0 <= index < n
    else:
        assert merkle.verify_inclusion(index, n, hashed[index], path, root)
    try:
        proof = merkle.consistency_proof(size1, hashed)
    except ProofError:
        assert not 0 < size1 <= n
    else:
        assert merkle.verify_consistency(size1, n, merkle.root(hashed[:size1]), root, proof)


@given(
    index=st.integers(-(10**9), 10**9),
    size=st.integers(-(10**9), 10**9),
    blobs=st.lists(st.binary(max_size=40), min_size=3, max_size=10),
)
def test_merkle_verification_answers_false_never_raises(
    index: int, size: int, blobs: list[bytes]
) -> None:
    """Arbitrary sizes and proof bytes verify True or False; nothing is raised."""
    leaf, root, *proof = blobs
    assert merkle.verify_inclusion(index, size, leaf, proof, root) in (True, False)
    assert merkle.verify_consistency(index, size, leaf, root, proof) in (True, False)


@given(hexes=st.lists(st.text(alphabet="0123456789abcdefxyz ", max_size=8), min_size=3, max_size=6))
def test_a_malformed_proof_verifies_false(hexes: list[str]) -> None:
    """Proofs read back from JSON with broken hex do not verify (and do not raise)."""
    entry, root, *path = hexes
    ckpt = Checkpoint(size=3, root=root, ts=0, key="k", sig="s")
    inclusion = InclusionProof(1, 0, entry, entry, path, ckpt)
    assert inclusion.verify() in (True, False)
    assert inclusion.to_dict()["verified"] in (True, False)
    assert ConsistencyProof(ckpt, ckpt, path).verify() in (True, False)


def test_a_bad_ledger_option_is_a_ledger_error(home: Path) -> None:
    """An entry size bound outside the readers' limit is refused before anything is opened."""
    with pytest.raises(LedgerError, match="max_entry_bytes"):
        Ledger.open(home, max_entry_bytes=10)


@given(
    value=st.one_of(ANY, st.dictionaries(st.sampled_from(["input_tokens", "cost_usd", "x"]), ANY))
)
def test_usage_is_coerced_or_refused(value: Any) -> None:
    """Usage.coerce gives finite non-negative numbers, or InvalidRequest (also a ValueError)."""
    try:
        got = Usage.coerce(value)
    except InvalidRequest as exc:
        assert isinstance(exc, ValueError)
        return
    assert got is None or (got.input_tokens >= 0 and 0 <= got.cost_usd < float("inf"))


@given(base=ANY, factor=ANY, cap=ANY, attempts=ANY, jitter=st.sampled_from(["full", "none", "x"]))
def test_retry_policy_is_built_or_refused(
    base: Any, factor: Any, cap: Any, attempts: Any, jitter: Any
) -> None:
    """A RetryPolicy from any values is usable (its delays are ints) or an InvalidRequest."""
    policy = only_orca_errors(
        lambda: RetryPolicy(
            base_ms=base, factor=factor, cap_ms=cap, max_attempts=attempts, jitter=jitter
        )
    )
    if policy is not None:
        assert isinstance(policy.ceiling_ms(3), int)
    with pytest.raises(InvalidRequest, match="unknown retry fields"):
        RetryPolicy.from_mapping({"base_ms": 1, "colour": "red"})


def test_a_virtual_clock_refuses_to_go_back() -> None:
    """advance() with a negative step is an InvalidRequest; the time does not move."""
    clock = VirtualClock(start_ms=1000)
    with pytest.raises(InvalidRequest, match="only moves forward"):
        clock.advance(-1)
    assert clock.now_ms() == 1000


def test_a_bad_policy_mode_is_a_governance_error() -> None:
    """PolicyEngine(mode=...) other than open/closed is a GovernanceError saying which exist."""
    with pytest.raises(GovernanceError, match="'open' or 'closed'"):
        PolicyEngine(None, mode="ajar")  # type: ignore[arg-type]
