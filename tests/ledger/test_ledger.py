"""Appending: durability, group commit, ids across restarts, recovery, bad input, erasure."""

import os
import signal
import stat
import threading
from pathlib import Path

import pytest

from orca.ledger import (
    Action,
    ActionError,
    Ledger,
    LedgerCorruptError,
    LedgerError,
    LedgerLocked,
    read_checkpoints,
    read_entries,
    verify,
)
from orca.testing import python_child


def _act(i: int, **kw: object) -> dict[str, object]:
    return {"kind": "task.claimed", "actor": f"agent-{i % 3}", "run": "r1", "args": {"i": i}, **kw}


def test_append_returns_a_signed_durable_entry(home: Path) -> None:
    """The returned entry is what a reader later finds on disk, with its provenance."""
    with Ledger.open(home) as led:
        e = led.append(
            Action(
                kind="run.started",
                actor="orchestrator",
                run="r1",
                trace="0af7651916cd43dd8448eb211c80319c",
                span="b7ad6b7169203331",
                args={"goal": "refund"},
                result={"ok": True},
                meta={"v": 2},
            )
        )
        assert e.id == 1 and e.signature and e.key == led.key_id
        assert read_entries(home).entries == [e]
    assert verify(home).ok


def test_key_is_private_and_named_by_its_public_half(home: Path) -> None:
    """The signing key is created on first use, owner-only, with its id in the file name."""
    with Ledger.open(home) as led:
        led.append(_act(1))
        kid = led.key_id
    keys = home / "ledger" / "keys"
    assert stat.S_IMODE((keys / f"{kid}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert (keys / f"{kid}.pub").exists()


def test_concurrent_appenders_share_batches_and_keep_the_chain(home: Path) -> None:
    """Many threads: every call gets a distinct id, fewer fsyncs than entries, chain verifies."""
    got: list[int] = []
    lock = threading.Lock()
    with Ledger.open(home) as led:

        def work(t: int) -> None:
            for i in range(25):
                e = led.append(_act(i, actor=f"t{t}"))
                with lock:
                    got.append(e.id)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert led.batches < len(got)  # group commit happened
    assert sorted(got) == list(range(1, 401))
    report = verify(home)
    assert report.ok, report.problems
    assert report.batches < 400 and report.entries == 400


def test_ids_keep_increasing_across_reopen(home: Path) -> None:
    """The next id after reopening is greater than every id on disk."""
    with Ledger.open(home) as led:
        for i in range(5):
            led.append(_act(i))
    with Ledger.open(home) as led:
        assert led.last_id == 5
        assert led.append(_act(6)).id == 6
    assert verify(home).ok


def test_torn_tail_is_reported_then_truncated_on_open(home: Path) -> None:
    """A half-written batch reads as torn-tail (not tampering); opening recovers it."""
    with Ledger.open(home) as led:
        for i in range(3):
            led.append(_act(i))
    path = home / "ledger" / "ledger.ndjson"
    good = path.read_bytes()
    with path.open("ab") as f:
        f.write(b'{"v":1,"id":4,"ts":1,"kind":"x"')  # a crash mid-write
    report = verify(home)
    assert [p.kind for p in report.problems] == ["torn-tail"]
    with Ledger.open(home) as led:
        assert led.recovered_bytes > 0
        assert led.append(_act(4)).id == 5  # entry 4 records the repair
    report = verify(home)
    assert report.ok and report.repaired == [4]
    assert path.read_bytes().startswith(good)


def test_unsigned_batch_is_a_torn_tail(home: Path) -> None:
    """Whole entries whose batch signature never made it were never acknowledged."""
    with Ledger.open(home) as led:
        led.append(_act(1))
        led.append(_act(2))
    path = home / "ledger" / "ledger.ndjson"
    lines = path.read_bytes().splitlines(keepends=True)
    sig_of_2 = max(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"t":"sig"'))
    path.write_bytes(b"".join(lines[:sig_of_2]))  # drop entry 2's signature and what follows
    (home / "ledger" / "checkpoints.ndjson").write_bytes(b"")
    assert {p.kind for p in verify(home).problems} == {"torn-tail"}
    with Ledger.open(home) as led:
        assert led.last_id == 2  # entry 2 is now the `ledger.repaired` record
        assert led.append(_act(3)).id == 3
    assert verify(home).ok


def test_bad_actions_are_refused_and_nothing_is_written(home: Path) -> None:
    """Bad kind, trace, payload or fields: a clear ActionError, and the ledger is unchanged."""
    with Ledger.open(home) as led:
        led.append(_act(1))
        bad: list[object] = [
            {"kind": "has space"},
            {"kind": "ok", "trace": "nothex"},
            {"kind": "ok", "span": "0" * 15},
            {"kind": "ok", "args": {1: object()}},
            {"kind": "ok", "nope": 1},
            {"actor": "no kind"},
            "not an action",
        ]
        for action in bad:
            with pytest.raises(ActionError):
                led.append(action)  # type: ignore[arg-type]
        assert led.append(_act(2)).id == 2
    assert verify(home).entries == 2


def test_one_writer_process_at_a_time(home: Path) -> None:
    """A second open for appending is refused with a clear error; readers are fine."""
    with Ledger.open(home) as led:
        led.append(_act(1))
        with pytest.raises(LedgerLocked):
            Ledger.open(home)
        assert verify(home).ok  # a live writer between batches is fine


def test_a_writer_in_another_process_is_named_and_sigkill_frees_it(home: Path) -> None:
    """LedgerLocked names the other writer's pid; once it is SIGKILLed the ledger opens again."""
    code = (
        "import sys\nfrom orca.ledger import Ledger\n"
        "led = Ledger.open(sys.argv[1])\nprint('open', flush=True)\nsys.stdin.read()\n"
    )
    with python_child(code, str(home), ready="open") as proc:
        with pytest.raises(LedgerLocked, match=f"pid {proc.pid}") as info:
            Ledger.open(home)
        assert info.value.pid == proc.pid
        assert verify(home).writer_live
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not verify(home).writer_live
    with Ledger.open(home) as led:
        assert led.append(_act(1)).id == 1


def test_old_name_of_ledger_locked_still_resolves() -> None:
    """orca.ledger.LedgerLockedError (the name before LedgerLocked) works, with a warning."""
    import orca.ledger

    with pytest.warns(DeprecationWarning, match="LedgerLocked"):
        assert orca.ledger.LedgerLockedError is LedgerLocked


def test_closed_ledger_refuses_appends(home: Path) -> None:
    """close() is idempotent and an append after it raises LedgerError."""
    led = Ledger.open(home)
    led.close()
    led.close()  # idempotent
    with pytest.raises(LedgerError):
        led.append(_act(1))


def test_checkpoints_every_n_and_on_close(home: Path) -> None:
    """A checkpoint every N entries (in both files) and one on close."""
    with Ledger.open(home, checkpoint_every=4) as led:
        for i in range(10):
            led.append(_act(i))
    sizes = [c.size for c in read_checkpoints(home)[0]]
    assert sizes[-1] == 10 and len(sizes) >= 3
    assert sizes == sorted(sizes)
    assert verify(home).checkpoints == len(sizes)


def test_forget_erases_payload_but_everything_verifies(home: Path) -> None:
    """GDPR: the payload is gone, the commitment and chain remain, offsets do not move."""
    with Ledger.open(home) as led:
        for i in range(3):
            led.append(_act(i, args={"email": "person@example.com"}))
        size = led.path.stat().st_size
        assert led.forget(2)
        assert not led.forget(2)
        with pytest.raises(LedgerError):
            led.forget(99)
        assert led.path.stat().st_size == size
        led.append(_act(4))
    entries = read_entries(home).entries
    assert entries[1].erased and entries[1].args is None
    assert (
        b"person@example.com"
        not in (home / "ledger" / "ledger.ndjson").read_bytes()[
            entries[1].offset : entries[2].offset
        ]
    )
    report = verify(home)
    assert report.ok and report.erased == 1


def test_key_rotation_keeps_old_signatures_valid(home: Path) -> None:
    """After rotate_key() entries signed by the old key still verify, and both keys are reported."""
    with Ledger.open(home) as led:
        led.append(_act(1))
        old = led.key_id
        new = led.rotate_key()
        led.append(_act(2))
    assert old != new
    report = verify(home)
    assert report.ok and set(report.keys) == {old, new}


def test_damage_before_a_signature_is_refused_on_open(home: Path) -> None:
    """Opening never truncates signed history: it refuses and points at `orca verify`."""
    with Ledger.open(home) as led:
        for i in range(3):
            led.append(_act(i))
    path = home / "ledger" / "ledger.ndjson"
    data = bytearray(path.read_bytes())
    data[5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerCorruptError, match="orca verify"):
        Ledger.open(home)


def test_truncated_ledger_is_refused_on_open(home: Path) -> None:
    """Entries a checkpoint covers are missing: refuse rather than reuse their ids."""
    with Ledger.open(home) as led:
        for i in range(3):
            led.append(_act(i))
    path = home / "ledger" / "ledger.ndjson"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]))  # entry 1 and its signature
    with pytest.raises(LedgerCorruptError, match="missing"):
        Ledger.open(home)


def test_durable_write_failure_raises_and_loses_nothing(home: Path) -> None:
    """A write that fails (fd closed under it) raises DurableWriteError; reopening is clean."""
    from orca.journal import DurableWriteError

    led = Ledger.open(home)
    led.append(_act(1))
    os.close(led._file.fd)  # the disk goes away
    with pytest.raises(DurableWriteError):
        led.append(_act(2))
    led._file.fd = -1
    led._ckpt_file.close()
    led._writer.release()
    with Ledger.open(home) as again:
        assert again.last_id == 1
        assert again.append(_act(2)).id == 2
    assert verify(home).ok
