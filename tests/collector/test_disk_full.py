"""Item 5: a full disk loses no good record and pauses the collector (on a real small tmpfs)."""

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orca.capture import Recorder
from orca.journal import JournalReader, JournalSink, list_segments

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for the test (skipped where mounting is not allowed)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int = 0) -> Path:
    """Fill the file system until only ``leave`` bytes (about) are free; return the filler."""
    filler = mnt / "filler"
    with filler.open("wb", buffering=0) as f:
        for size in (1 << 16, 4096, 1):
            try:
                while os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize > leave + size:
                    f.write(b"\0" * size)
                while leave == 0:
                    f.write(b"\0" * size)
            except OSError:
                continue
    return filler


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_item05_short_write_never_glues_the_next_record(tmpfs: Path) -> None:
    """After a short write on a full disk, the next good record starts on a fresh line."""
    sink = JournalSink(tmpfs / "journal", heartbeat_s=None, on_exit=False)
    filler = _fill(tmpfs)
    with pytest.warns(RuntimeWarning, match="dropped"):
        sink.emit({"v": 1, "kind": "log", "ts": 1, "component": "a", "level": "info",
                   "msg": "x" * 20_000})  # fmt: skip
    assert sink.drop_reasons.get("short-write") == 1
    filler.unlink()
    good = {"v": 1, "kind": "log", "ts": 2, "component": "a", "level": "info", "msg": "good"}
    sink.emit(good)
    sink.close()
    [(_, path)] = list_segments(tmpfs / "journal")
    with path.open("rb") as f:
        parsed = list(JournalReader(f).records())
    records = [p.record for p in parsed if p.record is not None]
    assert any(r.get("msg") == "good" for r in records)
    assert sum(p.error is not None for p in parsed) == 1  # only the torn half line


@pytest.mark.slow
def test_item05_collector_pauses_on_full_disk_and_resumes(tmpfs: Path) -> None:
    """Disk full: the collector pauses (stderr, `orca status`), resumes, exits on SIGTERM."""
    home = tmpfs / "home"
    orca = [sys.executable, "-m", "orca"]
    home.mkdir()  # only recording commands create a home
    subprocess.run([*orca, "collect", "--once", "--home", str(home)], check=True)
    with Recorder.open(home, heartbeat_s=None) as rec:
        log = rec.logger("full")
        for i in range(40):
            log.span(f"s{i}", body=base64.b64encode(os.urandom(24_000)).decode()).end()
    filler = _fill(tmpfs, leave=48 * 1024)
    err = tmpfs.parent / "collect.err"
    with (
        err.open("wb") as errf,
        subprocess.Popen(
            [*orca, "collect", "--home", str(home), "--interval-ms", "20"], stderr=errf
        ) as proc,
    ):
        try:
            _wait_for(lambda: b"paused: disk full" in err.read_bytes(), "the pause message")
            status = subprocess.run(
                [*orca, "status", "--json", "--home", str(home)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert "disk full" in json.loads(status.stdout)["collector"]["note"]
            assert proc.poll() is None  # paused, not dead
            filler.unlink()
            _wait_for(lambda: b"resumed" in err.read_bytes(), "the collector to resume")

            def caught_up() -> bool:
                out = subprocess.run(
                    [*orca, "status", "--json", "--home", str(home)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                return bool(json.loads(out.stdout)["lag_bytes"] == 0)

            _wait_for(caught_up, "the collector to catch up")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
    assert code == 0
    text = err.read_text()
    assert "Traceback" not in text
    traces = subprocess.run(
        [*orca, "traces", "--json", "--home", str(home), "--limit", "100"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(json.loads(traces.stdout)["traces"]) == 40
