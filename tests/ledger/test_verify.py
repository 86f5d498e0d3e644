"""Verification: every kind of tampering is named with its entry id; nothing passes silently."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orca.ledger import PROBLEM_KINDS, Ledger, TrustedKeys, verify
from orca.ledger._format import (
    BatchSig,
    Checkpoint,
    batch_message,
    checkpoint_message,
    encode_ckpt,
    encode_sig,
)
from orca.ledger._keys import key_id
from orca.testing import temp_home


def _build(home: Path, n: int = 6, every: int = 3) -> None:
    """A small closed ledger: one entry per batch (sequential), a checkpoint every 3."""
    with Ledger.open(home, checkpoint_every=every) as led:
        for i in range(n):
            led.append({"kind": "task.completed", "actor": f"a{i}", "args": {"i": i}})


def _lines(home: Path) -> list[bytes]:
    return (home / "ledger" / "ledger.ndjson").read_bytes().splitlines(keepends=True)


def _write(home: Path, lines: list[bytes]) -> None:
    (home / "ledger" / "ledger.ndjson").write_bytes(b"".join(lines))


def _entry_line(lines: list[bytes], entry_id: int) -> int:
    return next(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"id":%d,' % entry_id))


def _kinds(home: Path) -> set[tuple[str, int | None]]:
    return {(p.kind, p.entry) for p in verify(home).problems}


@pytest.fixture
def ledger_home(home: Path) -> Path:
    _build(home)
    assert verify(home).ok
    return home


def test_untouched_ledger_verifies(ledger_home: Path) -> None:
    """An untouched ledger verifies with every entry, batch, signature and checkpoint counted."""
    report = verify(ledger_home)
    assert report.ok and report.entries == 6 and report.batches == 6
    assert report.signatures >= 6 and report.checkpoints >= 2


def test_flipped_byte_in_entry_is_modified(ledger_home: Path) -> None:
    """One flipped bit in an entry is reported as that entry modified."""
    lines = _lines(ledger_home)
    i = _entry_line(lines, 3)
    line = bytearray(lines[i])
    line[line.index(b'"actor":"a2"') + 10] ^= 1
    lines[i] = bytes(line)
    _write(ledger_home, lines)
    assert ("modified", 3) in _kinds(ledger_home)


def test_changed_payload_is_modified(ledger_home: Path) -> None:
    """An edited payload is reported as exactly that entry modified, nothing else."""
    lines = _lines(ledger_home)
    i = _entry_line(lines, 2)
    lines[i] = lines[i].replace(b'"args":{"i":1}', b'"args":{"i":7}')
    _write(ledger_home, lines)
    assert _kinds(ledger_home) == {("modified", 2)}


def test_deleted_entry_is_a_gap(ledger_home: Path) -> None:
    """A deleted entry line is reported as a gap at its id."""
    lines = _lines(ledger_home)
    del lines[_entry_line(lines, 4)]
    _write(ledger_home, lines)
    assert ("gap", 4) in _kinds(ledger_home)


def test_swapped_entries_are_reordered(ledger_home: Path) -> None:
    """Two swapped entries are reported as reordered (and modified at most)."""
    lines = _lines(ledger_home)
    a, b = _entry_line(lines, 2), _entry_line(lines, 3)
    lines[a], lines[b] = lines[b], lines[a]
    _write(ledger_home, lines)
    kinds = _kinds(ledger_home)
    assert ("reordered", 2) in kinds
    assert all(k in {"reordered", "modified"} for k, _ in kinds)


def test_truncation_after_a_checkpoint(ledger_home: Path) -> None:
    """Cutting entries a checkpoint covers is reported as truncated-after-checkpoint."""
    lines = _lines(ledger_home)
    _write(ledger_home, lines[: _entry_line(lines, 5)])
    kinds = _kinds(ledger_home)
    assert ("truncated-after-checkpoint", 5) in kinds


def test_resigned_with_a_foreign_key_is_unknown_key(ledger_home: Path) -> None:
    """An attacker rewrites an entry, re-chains and re-signs everything with their own key."""
    foreign = Ed25519PrivateKey.generate()
    kid = key_id(foreign.public_key())
    # rebuild a forged ledger: same actions, one changed, signed by the foreign key
    forged_home = ledger_home.parent / (ledger_home.name + "-forged")
    forged_home.mkdir()
    try:
        with Ledger.open(forged_home) as led:
            for i in range(6):
                led.append({"kind": "task.completed", "actor": f"a{i}", "args": {"i": i * 10}})
        out = []
        for ln in _lines(forged_home):
            if ln.startswith(b'{"v":1,"t":"sig"'):
                s = __import__("orjson").loads(ln)
                sig = foreign.sign(batch_message(s["upto"], s["h"])).hex()
                ln = encode_sig(BatchSig(s["upto"], s["h"], kid, sig)) + b"\n"
            elif ln.startswith(b'{"v":1,"t":"ckpt"'):
                c = __import__("orjson").loads(ln)
                msg = checkpoint_message(c["size"], c["root"], c["ts"], kid)
                ck = Checkpoint(c["size"], c["root"], c["ts"], kid, foreign.sign(msg).hex())
                ln = encode_ckpt(ck) + b"\n"
            out.append(ln)
        _write(ledger_home, out)
        (ledger_home / "ledger" / "checkpoints.ndjson").write_bytes(
            b"".join(ln for ln in out if ln.startswith(b'{"v":1,"t":"ckpt"'))
        )
        report = verify(ledger_home)
        assert not report.ok
        assert {p.kind for p in report.problems} == {"unknown-key"}
        assert kid in report.keys
    finally:
        shutil.rmtree(forged_home)


def test_bad_signature_is_named(ledger_home: Path) -> None:
    """A corrupted batch signature is reported as bad-signature for that batch alone."""
    lines = _lines(ledger_home)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"t":"sig","upto":2,'))
    line = bytearray(lines[i])
    pos = line.index(b'"sig":"') + 10
    line[pos] = ord("0") if line[pos] != ord("0") else ord("1")
    lines[i] = bytes(line)
    _write(ledger_home, lines)
    assert _kinds(ledger_home) == {("bad-signature", 2)}


def test_external_trust_anchor_catches_a_planted_key(ledger_home: Path) -> None:
    """With the trusted keys kept elsewhere, a key planted in the home is still unknown."""
    trusted = TrustedKeys.from_dir(ledger_home / "ledger" / "keys")
    assert verify(ledger_home, trusted=trusted).ok
    assert {p.kind for p in verify(ledger_home, trusted=TrustedKeys()).problems} == {"unknown-key"}


def test_from_id_checks_only_later_entries(ledger_home: Path) -> None:
    """verify(from_id=…) skips earlier damage and checks only later entries."""
    lines = _lines(ledger_home)
    i = _entry_line(lines, 2)
    lines[i] = lines[i].replace(b'"args":{"i":1}', b'"args":{"i":7}')
    _write(ledger_home, lines)
    assert not verify(ledger_home).ok
    assert verify(ledger_home, from_id=3).ok


# -- every byte ------------------------------------------------------------------------------


_TRUSTED: dict[Path, TrustedKeys] = {}


@pytest.fixture(scope="module")
def small_ledger() -> Iterator[tuple[bytes, bytes, Path]]:
    """A tiny closed ledger (3 entries, 2 checkpoints) and its two files' bytes."""
    with temp_home() as home:
        _build(home, n=3, every=2)
        led = home / "ledger"
        _TRUSTED[home] = TrustedKeys.from_dir(led / "keys")
        yield (led / "ledger.ndjson").read_bytes(), (led / "checkpoints.ndjson").read_bytes(), home


def _assert_fails(home: Path, what: str) -> None:
    report = verify(home, workers=1, trusted=_TRUSTED[home])
    assert not report.ok, f"{what}: passed silently"
    assert all(p.kind in PROBLEM_KINDS for p in report.problems)


def _flip_and_check(home: Path, name: str, data: bytes, offset: int, mask: int) -> None:
    """Flip one byte in place (no rewrite of the file), verify, flip it back."""
    fd = os.open(home / "ledger" / name, os.O_RDWR)
    try:
        os.pwrite(fd, bytes([data[offset] ^ mask]), offset)
        _assert_fails(home, f"{name}: byte {offset} ^ {mask:#x}")
    finally:
        os.pwrite(fd, data[offset : offset + 1], offset)
        os.close(fd)


def _cut_and_check(home: Path, name: str, data: bytes, cut: int) -> None:
    """Truncate at ``cut``, verify, then append the cut bytes back."""
    path = home / "ledger" / name
    os.truncate(path, cut)
    try:
        _assert_fails(home, f"{name}: cut at {cut}")
    finally:
        with path.open("ab") as f:
            f.write(data[cut:])


@pytest.mark.parametrize("name", ["ledger.ndjson", "checkpoints.ndjson"])
@pytest.mark.parametrize("mask", [0x01, 0x20])
def test_every_flipped_byte_is_reported(
    small_ledger: tuple[bytes, bytes, Path], name: str, mask: int
) -> None:
    """Flip each byte of each file in turn: verify never passes."""
    ledger_bytes, ckpt_bytes, home = small_ledger
    data = ledger_bytes if name == "ledger.ndjson" else ckpt_bytes
    for i in range(len(data)):
        _flip_and_check(home, name, data, i, mask)
    assert verify(home).ok


@pytest.mark.parametrize("name", ["ledger.ndjson", "checkpoints.ndjson"])
def test_every_truncation_is_reported_or_recovered(
    small_ledger: tuple[bytes, bytes, Path], name: str
) -> None:
    """Truncate at each offset: verify names it; a torn tail is also recovered by opening."""
    ledger_bytes, ckpt_bytes, home = small_ledger
    data = ledger_bytes if name == "ledger.ndjson" else ckpt_bytes
    for cut in range(len(data)):
        _cut_and_check(home, name, data, cut)
    assert verify(home).ok


def test_torn_tail_recovers_on_open(small_ledger: tuple[bytes, bytes, Path]) -> None:
    """Every cut inside the last batch: verify says torn-tail, and open repairs it."""
    ledger_bytes, ckpt_bytes, home = small_ledger
    last_sig = ledger_bytes.rindex(b'{"v":1,"t":"sig"')
    prev_end = ledger_bytes.rindex(b"\n", 0, ledger_bytes.rindex(b'{"v":1,"id":3,')) + 1
    try:
        for cut in range(prev_end + 1, last_sig + 1, 7):
            with temp_home() as h2:
                shutil.copytree(home / "ledger", h2 / "ledger")
                (h2 / "ledger" / "ledger.ndjson").write_bytes(ledger_bytes[:cut])
                (h2 / "ledger" / "checkpoints.ndjson").write_bytes(
                    b"".join(ckpt_bytes.splitlines(keepends=True)[:1])
                )
                kinds = {p.kind for p in verify(h2).problems}
                assert kinds == {"torn-tail"}, (cut, kinds)
                with Ledger.open(h2) as led:
                    assert led.last_id == 3  # 3 records the repair
                    assert led.append({"kind": "after.crash"}).id == 4
                assert verify(h2).ok
    finally:
        assert verify(home).ok


@pytest.mark.parametrize("processes", [False, True])
def test_signature_checks_in_threads_and_in_processes(home: Path, processes: bool) -> None:
    """Both signature paths (threads after the pass; worker processes during it) catch a bad one."""
    with Ledger.open(home) as led:
        for i in range(1200):  # enough signatures for the pools to be used
            led.append({"kind": "task.completed", "args": {"i": i}})
    assert verify(home, processes=processes, workers=2).ok
    lines = _lines(home)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b'{"v":1,"t":"sig","upto":1000,'))
    line = bytearray(lines[i])
    pos = line.index(b'"sig":"') + 20
    line[pos] = ord("0") if line[pos] != ord("0") else ord("1")
    lines[i] = bytes(line)
    _write(home, lines)
    report = verify(home, processes=processes, workers=2)
    assert [(p.kind, p.entry) for p in report.problems] == [("bad-signature", 1000)]
    assert report.signatures >= 1200
