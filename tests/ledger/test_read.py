"""read_entries: the tailing API (for the collector): whole signed batches, resumable offsets."""

from pathlib import Path

import pytest

from orca.ledger import Ledger, LedgerCorruptError, read_entries


def _fill(home: Path, n: int, start: int = 0) -> None:
    with Ledger.open(home) as led:
        for i in range(start, start + n):
            led.append({"kind": "task.completed", "args": {"i": i}})


def test_missing_ledger_reads_empty(home: Path) -> None:
    """Reading a home with no ledger gives no entries at offset 0, not an error."""
    r = read_entries(home)
    assert r.entries == [] and r.next_offset == 0 and r.pending_bytes == 0


def test_resume_from_offset_reads_only_new_entries(home: Path) -> None:
    """Reading from a returned offset yields only the later entries, whatever path is given."""
    _fill(home, 3)
    first = read_entries(home)
    assert [e.id for e in first.entries] == [1, 2, 3] and first.pending_bytes == 0
    _fill(home, 2, start=3)
    second = read_entries(home, first.next_offset)
    assert [e.id for e in second.entries] == [4, 5]
    assert all(e.signature and e.key for e in second.entries)
    # the same works given the ledger directory or the file itself
    assert (
        read_entries(home / "ledger").entries
        == read_entries(home / "ledger" / "ledger.ndjson").entries
    )


def test_max_entries_stops_at_a_batch_boundary(home: Path) -> None:
    """max_entries stops early, and the next read resumes at the following entry."""
    _fill(home, 5)
    part = read_entries(home, max_entries=2)
    assert [e.id for e in part.entries] == [1, 2]
    rest = read_entries(home, part.next_offset)
    assert [e.id for e in rest.entries] == [3, 4, 5]


def test_torn_or_unsigned_tail_waits(home: Path) -> None:
    """A writer mid-batch: entries without their signature are not handed out yet."""
    _fill(home, 2)
    path = home / "ledger" / "ledger.ndjson"
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    last_sig = max(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"t":"sig"'))
    path.write_bytes(b"".join(lines[:last_sig]) + b'{"v":1,"id":3,"ts"')
    r = read_entries(home)
    assert [e.id for e in r.entries] == [1]
    assert r.pending_bytes > 0
    path.write_bytes(full)
    assert [e.id for e in read_entries(home, r.next_offset).entries] == [2]


def test_damage_inside_signed_history_raises(home: Path) -> None:
    """A broken line inside signed history raises LedgerCorruptError naming its offset."""
    _fill(home, 3)
    path = home / "ledger" / "ledger.ndjson"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"kind":"task.completed"', b'"kind":task.completed"', 1))
    with pytest.raises(LedgerCorruptError, match="offset 0"):
        read_entries(home)
