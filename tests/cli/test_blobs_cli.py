"""``orca blobs ls|verify|gc|rotate-key`` as a user runs them; errors are one line, exit 2."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from orca.blobs import BlobStore
from orca.cli import cli
from orca.store import SQLiteStore


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _orca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args], capture_output=True, text=True, check=False
    )


def _fill(home: Path) -> BlobStore:
    store = BlobStore.open(home)
    store.put(b"first blob " * 10_000)
    store.put(b"second blob " * 10_000)
    return store


def test_ls_text_and_json(home: Path) -> None:
    """ls prints one line per blob and a total; --json gives the same rows."""
    _fill(home)
    r = _run("blobs", "ls", "--home", str(home))
    assert r.exit_code == 0 and "2 blobs" in r.output
    rows = json.loads(_run("blobs", "ls", "--home", str(home), "--json").output)
    assert {row["size"] for row in rows} == {110_000, 120_000}
    assert all(row["problem"] is None and len(row["key_id"]) == 16 for row in rows)


def test_verify_clean_then_damaged(home: Path) -> None:
    """verify exits 0 on a clean store, 1 naming the damaged blob and its problem."""
    store = _fill(home)
    ok = _run("blobs", "verify", "--home", str(home))
    assert ok.exit_code == 0 and "checked 2 blobs: none damaged" in ok.output
    victim = next(store.ls())
    path = store.path(victim.sha256)
    path.write_bytes(path.read_bytes()[:-3])
    bad = _run("blobs", "verify", "--home", str(home), "--json")
    assert bad.exit_code == 1
    doc = json.loads(bad.output)
    assert doc["checked"] == 2
    assert [(d["sha256"], d["problem"]) for d in doc["damaged"]] == [(victim.sha256, "truncated")]


def test_gc_keeps_what_the_store_references(home: Path) -> None:
    """gc keeps blobs the store's bodies point at and removes the rest (past the grace)."""
    store = _fill(home)
    with SQLiteStore.open(home):
        pass
    young = json.loads(_run("blobs", "gc", "--home", str(home), "--json").output)
    assert (young["removed"], young["spared_young"]) == (0, 2)
    r = _run("blobs", "gc", "--home", str(home), "--grace", "0s")
    assert r.exit_code == 0 and "removed 2 blobs" in r.output
    assert list(store.ls()) == []


def test_rotate_key_reseals_and_retires(home: Path) -> None:
    """rotate-key makes a new key, re-seals every blob, and deletes the old key file."""
    store = _fill(home)
    old = store.keys.current_id().hex()
    partial = json.loads(
        _run("blobs", "rotate-key", "--home", str(home), "--limit", "1", "--json").output
    )
    assert (partial["reencrypted"], partial["remaining"]) == (1, 1)
    r = _run("blobs", "rotate-key", "--home", str(home), "--resume")
    assert r.exit_code == 0 and "re-sealed 1 blobs, 0 left" in r.output
    assert {i.key_id for i in store.ls()} == {partial["key_id"]} != {old}
    assert not (home / "blobs" / "keys" / f"{old}.key").exists()
    assert _run("blobs", "verify", "--home", str(home)).exit_code == 0


def test_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    """No blob store, no store for gc, an unsafe key: one line on stderr, exit 2."""
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _orca("blobs", "ls", "--home", str(empty))
    assert r.returncode == 2 and "no blob store" in r.stderr and len(r.stderr.splitlines()) == 1
    store = _fill(home)
    r = _orca("blobs", "gc", "--home", str(home))
    assert r.returncode == 2 and "no store" in r.stderr and len(r.stderr.splitlines()) == 1
    (store.keys.root / f"{store.keys.current_id().hex()}.key").chmod(0o644)
    r = _orca("blobs", "verify", "--home", str(home))
    assert r.returncode == 2 and "chmod 600" in r.stderr and len(r.stderr.splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_ledger_reference_keeps_a_blob_until_forget(home: Path) -> None:
    """A payload holding blob_ref(address) keeps the blob through gc; forget deletes it (and
    nothing else), and the ledger still verifies."""
    from orca.blobs import blob_ref, refs_in
    from orca.ledger import Ledger

    store = _fill(home)
    payload = store.put(b"a large envelope payload " * 50_000)
    with Ledger.open(home) as led:
        entry = led.append(
            {"kind": "envelope.accepted", "actor": "orchestrator", "args": blob_ref(payload)}
        )
    assert list(refs_in(entry.args)) == [payload]
    kept = json.loads(_run("blobs", "gc", "--home", str(home), "--grace", "0s", "--json").output)
    assert (kept["kept"], kept["removed"]) == (1, 2)
    assert store.exists(payload)
    other = store.put(b"an unreferenced blob, younger than the grace period")
    forgot = _run("ledger", "forget", str(entry.id), "--home", str(home))
    assert forgot.exit_code == 0 and "1 blob(s) deleted" in forgot.output
    assert not store.exists(payload) and store.exists(other)  # forget takes only its own
    assert _run("verify", "--home", str(home)).exit_code == 0


def test_collect_with_an_unsafe_key_stops_and_loses_nothing(home: Path) -> None:
    """A world-readable key stops `orca collect` with the chmod to run; after the fix the same
    big body is collected (nothing was acknowledged in between)."""
    from orca.capture import Recorder

    store = BlobStore.open(home)
    key_file = store.keys.root / f"{store.keys.current_id().hex()}.key"
    key_file.chmod(0o644)
    rec = Recorder.open(home, heartbeat_s=None)
    rec.logger("agent").span("provider.request", body="b" * 300_000).end()
    rec.close()
    r = _orca("collect", "--once", "--home", str(home))
    assert r.returncode == 2 and "chmod 600" in r.stderr and len(r.stderr.splitlines()) == 1
    key_file.chmod(0o600)
    r = _orca("collect", "--once", "--home", str(home))
    assert r.returncode == 0, r.stderr
    with SQLiteStore.open(home) as traces:
        (span,) = traces.find_spans(name="provider.request")
        assert traces.get_body(span.request_body or "") == b"b" * 300_000
