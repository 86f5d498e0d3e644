"""Items 8, 9, 10: read-only homes, numbers out of range, and home path problems."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orca.capture import Recorder
from orca.collector import Collector


def _orca(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orca", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _one_line(proc: subprocess.CompletedProcess[str], needle: str, code: int = 2) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def _recorded(home: Path) -> None:
    with Recorder.open(home, heartbeat_s=None) as rec:
        rec.logger("t").span("turn").end()
    with Collector(home) as c:
        c.drain()


@pytest.fixture
def readonly_home(tmp_path: Path) -> Iterator[Path]:
    """A recorded home on a read-only mount (root) or with its write bits removed."""
    if os.geteuid() == 0:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mnt)], check=False).returncode:
            pytest.skip("cannot mount a tmpfs here")
        try:
            _recorded(mnt / "home")
            subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
            yield mnt / "home"
        finally:
            subprocess.run(["umount", "-l", str(mnt)], check=False)
    else:
        home = tmp_path / "home"
        _recorded(home)
        for p in [home, *home.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        try:
            yield home
        finally:
            for p in [home, *home.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)


def test_item08_recorder_on_readonly_home_is_disabled_with_one_warning(
    readonly_home: Path,
) -> None:
    """Recorder.open never raises into the agent: recording is off, said once."""
    with pytest.warns(RuntimeWarning, match="recording is off"):
        rec = Recorder.open(readonly_home, heartbeat_s=None)
    assert not rec.enabled
    rec.logger("t").span("still runs").end()
    rec.close()


def test_item08_queries_read_a_readonly_store(readonly_home: Path) -> None:
    """traces, trace last and status read a store they cannot write."""
    out = _orca("traces", "--home", str(readonly_home))
    assert out.returncode == 0 and "turn" in out.stdout, out.stderr
    assert _orca("trace", "last", "--home", str(readonly_home)).returncode == 0
    assert _orca("status", "--home", str(readonly_home)).returncode == 0
    assert _orca("search", "turn", "--home", str(readonly_home)).returncode == 0


def test_item08_writers_say_the_home_is_not_writable(readonly_home: Path) -> None:
    """collect and ledger append: one line naming the problem."""
    _one_line(_orca("collect", "--once", "--home", str(readonly_home)), "not writable")
    _one_line(_orca("ledger", "append", "x", "--home", str(readonly_home)), "not writable")


@pytest.mark.parametrize(
    "args",
    [
        ["traces", "--since", "10000000w"],
        ["traces", "--limit", "1e23"],
        ["traces", "--limit", "100000000000000000000000"],
        ["prune", "--max-age", "99999999999999999w"],
        ["run", "--wait", "nan", "--", "true"],
        ["collect", "--idle-exit", "nan"],
        ["collect", "--idle-exit", "inf"],
        ["collect", "--interval-ms", "10000000000000000000000"],
        ["stats", "--since", "-5m"],
        ["ledger", "prove", "99999999999999999999999"],
    ],
)
def test_item09_numbers_out_of_range_are_one_line(home: Path, args: list[str]) -> None:
    """Overflowing, negative and non-finite numbers: one line, exit 2, before any work."""
    home.mkdir(exist_ok=True)
    _one_line(_orca(*args, "--home", str(home)), "Invalid value")


def test_item09_durations_are_case_insensitive_and_shared(home: Path) -> None:
    """The same units everywhere: 250MS, 2H, 1W are accepted by --since."""
    _recorded(home)
    for value in ("250MS", "2H", "1W", "1.5d"):
        assert _orca("traces", "--since", value, "--home", str(home)).returncode == 0


def test_item10_home_that_is_a_file(tmp_path: Path) -> None:
    """ORCA_HOME pointing at a file: one line saying so."""
    f = tmp_path / "afile"
    f.write_text("x")
    _one_line(_orca("traces", env={"ORCA_HOME": str(f)}), "is a file")
    _one_line(_orca("collect", "--once", "--home", str(f)), "is a file")


def test_item10_ledger_file_that_is_a_directory(home: Path) -> None:
    """`ledger.ndjson` being a directory: one line, no traceback."""
    (home / "ledger" / "ledger.ndjson").mkdir(parents=True)
    for args in (["verify"], ["ledger", "append", "x"], ["ledger", "tail"]):
        proc = _orca(*args, "--home", str(home))
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_item10_typo_home_is_not_created_by_collect(tmp_path: Path) -> None:
    """`orca collect --once --home typo` refuses instead of starting a new home."""
    typo = tmp_path / "hoem"
    _one_line(_orca("collect", "--once", "--home", str(typo)), "no ORCA home")
    assert not typo.exists()


def test_item12_check_with_nothing_to_check_fails(home: Path) -> None:
    """--all on an empty store, --since with no traces, --only '': exit 2, never "passed"."""
    with Recorder.open(home, heartbeat_s=None):
        pass
    with Collector(home) as c:
        c.drain()
    _one_line(_orca("check", "--all", "--home", str(home)), "no traces to check")
    _recorded(home)
    _one_line(_orca("check", "--all", "--since", "1ms", "--home", str(home)), "no traces")
    _one_line(_orca("check", "last", "--only", "", "--home", str(home)), "no such check")
    _one_line(_orca("check", "last", "--only", ",", "--home", str(home)), "no such check")
    _one_line(_orca("check", "last", "--all", "--home", str(home)), "not both")


def test_item09_replay_since_takes_the_shared_durations(home: Path) -> None:
    """`orca replay inspect --since 2H` means the last two hours, like every other --since."""
    from orca.ledger import Ledger

    with Ledger.open(home) as led:
        led.append({"kind": "k"})
    out = _orca("replay", "inspect", "--since", "2H", "--json", "--home", str(home))
    assert out.returncode == 0, out.stderr
    assert len(__import__("json").loads(out.stdout)) == 1
    _one_line(_orca("replay", "inspect", "--since", "soon", "--home", str(home)), "soon")
