"""erased_ids: what a tailing mirror asks the ledger instead of parsing erased lines itself."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.ledger import Action, Ledger, erased_ids, ledger_path


def test_erased_ids_names_only_erased_entries(home: Path) -> None:
    """A payload that merely contains the erased mark (a key "p" set to null) is not erased."""
    with Ledger.open(home) as led:
        led.append(Action(kind="task.claimed", args={"email": "a@example.com"}))
        led.append(
            Action(kind="task.completed", args={"note": 'decoy ","p":null }'}, meta={"p": None})
        )
        led.append(Action(kind="task.claimed", args={"x": "", "p": None}))
        assert erased_ids(home, 1 << 30) == []
        assert led.forget(1) and led.forget(3)
    size = ledger_path(home).stat().st_size
    assert erased_ids(home, size) == [1, 3]
    assert erased_ids(ledger_path(home), size) == [1, 3]  # the file itself works too
    assert erased_ids(home, 0) == []


def test_erased_ids_stops_at_upto(home: Path) -> None:
    """Only entries whose lines lie below ``upto`` (the mirror's committed offset) are named."""
    with Ledger.open(home) as led:
        led.append(Action(kind="a", args=1))
        mid = ledger_path(home).stat().st_size
        led.append(Action(kind="b", args=2))
        led.forget(1)
        led.forget(2)
    assert erased_ids(home, mid) == [1]


def test_erased_ids_of_a_missing_ledger_is_empty(tmp_path: Path) -> None:
    """A home without a ledger has nothing erased (and nothing is created)."""
    assert erased_ids(tmp_path, 1 << 20) == []
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=15)
@given(
    payloads=st.lists(
        st.dictionaries(st.sampled_from(["p", "h", "x"]), st.none() | st.text(max_size=8)),
        min_size=1,
        max_size=6,
    ),
    data=st.data(),
)
def test_erased_ids_equals_what_was_forgotten(
    tmp_path_factory: pytest.TempPathFactory,
    payloads: list[dict[str, str | None]],
    data: st.DataObject,
) -> None:
    """Whatever the payloads, erased_ids is exactly the set of forgotten ids, in order."""
    home = tmp_path_factory.mktemp("home")
    ids = list(range(1, len(payloads) + 1))
    gone = sorted(data.draw(st.sets(st.sampled_from(ids))))
    with Ledger.open(home) as led:
        for p in payloads:
            led.append(Action(kind="k", args=p, meta=p))
        for i in gone:
            assert led.forget(i)
    assert erased_ids(home, ledger_path(home).stat().st_size) == gone
