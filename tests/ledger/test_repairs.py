"""Item 3: opening repairs only a crash's tail, says so, and records it; damage is refused."""

from pathlib import Path

import pytest

from orca.ledger import Ledger, LedgerCorruptError, read_entries, verify


def _three(home: Path) -> Path:
    with Ledger.open(home) as led:
        for i in range(3):
            led.append({"kind": "k", "args": {"i": i}})
    return home / "ledger"


def test_item03_garbage_line_refuses_append(home: Path) -> None:
    """A complete garbage line at the end is damage: opening refuses, verify keeps failing."""
    ldir = _three(home)
    with (ldir / "ledger.ndjson").open("ab") as f:
        f.write(b'{"not":"a ledger line"}\n')
    assert not verify(home).ok
    with pytest.raises(LedgerCorruptError, match=r"offset \d+.*orca verify"):
        Ledger.open(home)
    assert not verify(home).ok  # nothing was papered over


def test_item03_garbage_entry_after_unsigned_entries_refused(home: Path) -> None:
    """A complete, unparseable line even after whole unsigned entries is not truncated."""
    ldir = _three(home)
    path = ldir / "ledger.ndjson"
    before = path.read_bytes()
    with path.open("ab") as f:
        f.write(b'{"v":1,"id":4,"ts":1,"kind":"x"}\n')
    with pytest.raises(LedgerCorruptError):
        Ledger.open(home)
    assert path.read_bytes().startswith(before)


def test_item03_deleted_checkpoint_log_rebuild_is_reported_and_recorded(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Deleting checkpoints.ndjson: the rebuild is said on stderr and kept as an entry."""
    ldir = _three(home)
    (ldir / "checkpoints.ndjson").unlink()
    assert not verify(home).ok
    with Ledger.open(home) as led:
        assert led.repairs and "checkpoints.ndjson" in led.repairs[0]
        led.append({"kind": "after"})
    assert "repaired on open" in capfd.readouterr().err
    report = verify(home)
    assert report.ok and report.repaired == [4]
    repaired = read_entries(home).entries[3]
    assert repaired.kind == "ledger.repaired"
    assert "checkpoints.ndjson" in repaired.meta["repairs"][0]


def test_item03_torn_tail_repair_is_recorded(home: Path) -> None:
    """A torn last line (no newline) is truncated, and a `ledger.repaired` entry says so."""
    ldir = _three(home)
    with (ldir / "ledger.ndjson").open("ab") as f:
        f.write(b'{"v":1,"id":4,"ts"')
    with Ledger.open(home) as led:
        assert led.last_id == 4
    entry = read_entries(home).entries[-1]
    assert entry.kind == "ledger.repaired" and "torn last line" in entry.meta["repairs"][0]
    assert verify(home).repaired == [4]
