"""Item 1: the ledger refuses an entry it could not read back, before writing anything."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.ledger import ActionError, Ledger, LedgerError, read_entries, verify
from orca.ledger._format import DEFAULT_MAX_ENTRY_BYTES, HEADER_ROOM, MAX_LINE_BYTES
from orca.testing import temp_home


def test_item01_oversize_ledger_entry_refused(home: Path) -> None:
    """A 16 MiB payload is refused with ActionError; the ledger still opens, appends, verifies."""
    with Ledger.open(home) as led:
        led.append({"kind": "small", "args": {"n": 1}})
        size = led.path.stat().st_size
        with pytest.raises(ActionError, match="at most"):
            led.append({"kind": "big", "args": "x" * (16 << 20)})
        assert led.path.stat().st_size == size  # nothing written
    with Ledger.open(home) as led:
        assert led.append({"kind": "after"}).id == 2
    assert verify(home).ok
    assert [e.kind for e in read_entries(home).entries] == ["small", "after"]


def test_item01_default_limit_is_documented_and_readable() -> None:
    """The default entry limit is 4 MiB and every reader accepts lines that long."""
    assert DEFAULT_MAX_ENTRY_BYTES == 4 << 20
    assert DEFAULT_MAX_ENTRY_BYTES <= MAX_LINE_BYTES


def test_item01_limit_is_configurable(home: Path) -> None:
    """A larger configured limit accepts what the default refuses, and reads it back."""
    payload = "y" * (DEFAULT_MAX_ENTRY_BYTES + 10)
    with Ledger.open(home, max_entry_bytes=8 << 20) as led:
        led.append({"kind": "big", "args": payload})
    assert verify(home).ok
    assert read_entries(home).entries[0].args == payload
    with pytest.raises(LedgerError, match="max_entry_bytes"):
        Ledger.open(home, max_entry_bytes=MAX_LINE_BYTES * 2)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=_json, pad=st.integers(0, 3 * HEADER_ROOM), actor=st.text(max_size=512))
def test_item01_whatever_append_accepts_reads_back(args: object, pad: int, actor: str) -> None:
    """Anything append accepted: open + verify + read_entries read it back unchanged."""
    limit = 2 * HEADER_ROOM
    with temp_home() as home:
        accepted = []
        with Ledger.open(home, max_entry_bytes=limit) as led:
            for value in (args, "z" * pad):
                try:
                    accepted.append(led.append({"kind": "k", "actor": actor, "args": value}))
                except ActionError:
                    pass
        with Ledger.open(home) as led:
            assert led.last_id == len(accepted)
        assert verify(home).ok
        back = read_entries(home).entries
        assert [(e.id, e.args, e.actor) for e in back] == [
            (e.id, e.args, e.actor) for e in accepted
        ]
