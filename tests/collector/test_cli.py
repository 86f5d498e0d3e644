"""orca collect / status / prune / pin as a user runs them (CliRunner: the real commands)."""

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from orca.capture import Recorder
from orca.cli import cli


def _record(home: Path, *, close: bool = True) -> str:
    rec = Recorder.open(home, heartbeat_s=None)
    turn = rec.logger("svc").span("turn")
    turn.child("step", body="prompt " * 80).end()
    turn.end()
    if close:
        rec.close()
    return turn.trace_id


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_collect_once_then_status(home: Path) -> None:
    """`collect --once` ingests and quarantines; `status` shows writers and the bad line."""
    trace = _record(home)
    (home / "journal" / f"{os.getpid()}-1-000000.ndjson").write_bytes(b"garbage\n")
    code, out, _ = run("collect", "--once", "--home", str(home))
    assert code == 0 and out.startswith("ingested 6 records, quarantined 1 lines")
    code, out, _ = run("status", "--home", str(home), "--json")
    status = orjson.loads(out)
    assert code == 0 and status["collector"] == {"running": False, "pid": None, "note": None}
    assert status["lag_bytes"] == 0 and status["store"]["spans"] == 2
    assert status["store"]["quarantined"] == 1
    assert status["store"]["bodies_to_compact"] == 1 and status["store"]["bodies_damaged"] == 0
    assert status["store"]["dictionary_after_bodies"] == 1000  # compaction waits for it
    writers = {s["segment"]: s["writer"] for s in status["segments"]}
    assert sorted(writers.values()) == ["alive", "exited"]  # the garbage segment names us
    code, out, _ = run("status", "--home", str(home), "--quarantine")
    assert code == 0 and "not valid JSON" in out and "garbage" in out
    assert "collector: not running" in out
    assert "compaction: 1 bodies awaiting (compaction starts once" in out
    assert "after 1,000 bodies" in out
    code, out, _ = run("pin", trace[:10], "--home", str(home))
    assert code == 0 and out.strip() == f"pinned {trace}"


def test_status_shows_lag_before_any_collector(home: Path) -> None:
    """Before any collector ran, `status` reports no store and every journal byte as lag."""
    _record(home)
    code, out, _ = run("status", "--home", str(home), "--json")
    status = orjson.loads(out)
    assert code == 0 and status["store"] is None
    assert status["lag_bytes"] == sum(s["bytes"] for s in status["segments"]) > 0


def test_prune_reports_and_keeps_pinned(home: Path) -> None:
    """`prune` spares a pinned trace, removes it once unpinned, and says what it kept."""
    trace = _record(home)
    run("collect", "--once", "--home", str(home))
    run("pin", trace, "--home", str(home))
    code, out, _ = run("prune", "--home", str(home), "--max-age", "0s", "--json")
    assert code == 0 and orjson.loads(out)["traces"] == 0  # pinned
    run("pin", trace, "--unpin", "--home", str(home))
    code, out, _ = run("prune", "--home", str(home), "--max-age", "0s")
    assert code == 0 and out.startswith("removed 1 traces (2 spans")
    assert "1 unreferenced" in out and "2 roll-up rows kept" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pin", "ffff"], "no trace with id 'ffff'"),
        (["prune", "--max-age", "soon"], "'soon' is not a duration"),
        (["prune", "--max-body-bytes", "lots"], "'lots' is not a size"),
        (["collect", "--once", "--compact-every", "soon"], "'soon' is not a duration"),
    ],
)
def test_bad_input_is_one_line(home: Path, args: list[str], message: str) -> None:
    """An unknown trace id, a bad duration or a bad size is one line on stderr and exit 2."""
    _record(home)
    run("collect", "--once", "--home", str(home))
    code, _, err = run(*args, "--home", str(home))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_no_store_yet(home: Path) -> None:
    """Before a store exists, a command names the missing file and the command that builds it."""
    done = subprocess.run(
        [sys.executable, "-m", "orca", "pin", "abc", "--home", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr == (
        f"orca: no store at {home / 'store.sqlite'}; "
        f"run `orca collect --once --home {home}` to build it\n"
    )
