"""The saved ledger head: a clean close lets the next open skip the re-hash, safely."""

import os
import signal
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.ledger import Action, Ledger, LedgerCorruptError, ledger_path, verify
from orca.ledger._headfile import HEAD_FILE, load_head
from orca.ledger._recover import Head, scan
from orca.testing import python_child

MISMATCH = "saved head not used"


def _facts(head: Head) -> dict[str, object]:
    """Everything appending continues from, comparable across a load and a scan."""
    return {
        "last_id": head.last_id,
        "last_hash": head.last_hash,
        "last_ts": head.last_ts,
        "root": head.acc.root(),
        "leaves": head.acc.size,
        "size": head.size_bytes,
        "sig": head.last_sig,
        "entry_offset": head.last_entry_offset,
    }


def test_a_clean_close_lets_the_next_open_skip_the_scan(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reopened from the saved head, appends continue the same chain and everything verifies."""
    with Ledger.open(home, checkpoint_every=4) as led:
        assert not led.from_head  # a new ledger: nothing saved yet
        for i in range(10):
            led.append(Action(kind="k", args=i))
    assert (home / "ledger" / HEAD_FILE).exists()
    with Ledger.open(home, checkpoint_every=4) as led:
        assert led.from_head
        assert not (home / "ledger" / HEAD_FILE).exists()  # the ledger may change from now on
        assert led.append(Action(kind="k", args=10)).id == 11
    report = verify(home)
    assert report.ok and report.entries == 11 and report.checkpoints >= 3
    assert MISMATCH not in capsys.readouterr().err


@settings(max_examples=20)
@given(batches=st.lists(st.integers(1, 5), min_size=1, max_size=6), every=st.integers(1, 6))
def test_the_saved_head_is_what_a_scan_finds(
    tmp_path_factory: pytest.TempPathFactory, batches: list[int], every: int
) -> None:
    """After any sequence of appends and closes, the saved head equals a full scan's head."""
    home = tmp_path_factory.mktemp("home")
    n = 0
    for size in batches:
        with Ledger.open(home, checkpoint_every=every) as led:
            tickets = led.begin_append_all([Action(kind="k", args=n + i) for i in range(size)])
            for t in tickets:
                t.wait()
            n += size
        led_dir = home / "ledger"
        scanned = scan(ledger_path(home))
        saved = load_head(led_dir, ledger_path(home), led_dir / "checkpoints.ndjson")
        assert saved is not None and _facts(saved) == _facts(scanned)
        assert saved.last_ckpt_size == max([c.size for c in scanned.ledger_ckpts] + [0])
        with Ledger.open(home, checkpoint_every=every):  # load_head removed it: close saves again
            pass
    assert verify(home).entries == n


def test_a_crashed_writer_leaves_no_head_to_trust(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer SIGKILLed after a clean reopen leaves no head file: the next open scans, quietly."""
    with Ledger.open(home) as led:
        led.append(Action(kind="k"))
    code = (
        "import sys\nfrom orca.ledger import Ledger, Action\n"
        "led = Ledger.open(sys.argv[1])\nassert led.from_head\n"
        "led.append(Action(kind='k'))\nprint('appended', flush=True)\nsys.stdin.read()\n"
    )
    with python_child(code, str(home), ready="appended") as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (home / "ledger" / HEAD_FILE).exists()
    with Ledger.open(home) as led:
        assert not led.from_head and led.last_id == 2
    assert MISMATCH not in capsys.readouterr().err


def test_an_edit_after_close_is_found_by_the_scan(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A middle entry edited while closed: the head is not trusted and the scan refuses."""
    with Ledger.open(home) as led:
        for i in range(5):
            led.append(Action(kind="k", actor=f"actor-{i}"))
    path = ledger_path(home)
    raw = path.read_bytes()
    at = raw.index(b"actor-2")
    path.write_bytes(raw[:at] + b"ACTOR-2" + raw[at + 7 :])  # a hashed header, same size
    with pytest.raises(LedgerCorruptError):
        Ledger.open(home)
    err = capsys.readouterr().err
    assert MISMATCH in err and "changed after the ledger was closed" in err


def test_a_torn_tail_after_close_is_repaired_by_the_scan(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes appended while closed: the head is not trusted; the scan truncates them and says so."""
    with Ledger.open(home) as led:
        led.append(Action(kind="k"))
    with ledger_path(home).open("ab") as f:
        f.write(b'{"v":1,"id":2,"ts":1,"kind":"tor')
    with Ledger.open(home) as led:
        assert not led.from_head and led.recovered_bytes > 0
    err = capsys.readouterr().err
    assert MISMATCH in err and "repaired on open" in err
    assert verify(home).ok


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("last_hash", "f" * 64, "does not hash to the saved head"),
        ("last_id", 7, "is not entry 7"),
        ("entry_offset", 0, "does not hash to the saved head"),
        ("size", 1, "does not end where the head says"),
        ("v", 99, "unknown version"),
    ],
)
def test_a_head_that_does_not_match_the_tail_is_not_used(
    home: Path, capsys: pytest.CaptureFixture[str], field: str, value: object, why: str
) -> None:
    """A saved head whose tail check fails (files untouched) falls back to the scan, said once."""
    with Ledger.open(home) as led:
        for i in range(3):
            led.append(Action(kind="k", args=i))
    head_path = home / "ledger" / HEAD_FILE
    doc = orjson.loads(head_path.read_bytes())
    doc[field] = value
    head_path.write_bytes(orjson.dumps(doc))
    with Ledger.open(home) as led:
        assert not led.from_head and led.last_id == 3
        assert led.append(Action(kind="k")).id == 4
    err = capsys.readouterr().err
    assert err.count(MISMATCH) == 1 and why in err
    assert verify(home).ok


def test_a_head_file_that_is_not_json_is_not_used(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Garbage in head.json costs a scan and a line on stderr, nothing else."""
    with Ledger.open(home) as led:
        led.append(Action(kind="k"))
    (home / "ledger" / HEAD_FILE).write_bytes(b"{not json")
    with Ledger.open(home) as led:
        assert not led.from_head and led.last_id == 1
    assert "not a ledger head" in capsys.readouterr().err
