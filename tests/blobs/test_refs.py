"""Blob references inside JSON payloads are found wherever they sit, and only real ones."""

from hypothesis import given
from hypothesis import strategies as st

from orca.blobs import REF_KEY, Address, blob_ref, refs_in

ADDRESSES = st.builds(
    Address, st.text("0123456789abcdef", min_size=64, max_size=64), st.integers(0, 2**40)
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))


@given(
    addresses=st.lists(ADDRESSES, max_size=5),
    noise=st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=10,
    ),
)
def test_every_embedded_reference_is_found(addresses: list[Address], noise: object) -> None:
    """References placed anywhere in arbitrary JSON come back, and plain data adds none."""
    doc = {"payload": [noise, *(blob_ref(a) for a in addresses)], "more": noise}
    assert sorted(refs_in(doc)) == sorted(addresses)


def test_lookalikes_are_data() -> None:
    """A malformed address or a dict with more keys is data, not a reference."""
    assert list(refs_in({REF_KEY: "sha256:nothex:1"})) == []
    assert list(refs_in({REF_KEY: str(Address("a" * 64, 1)), "x": 1})) == []
