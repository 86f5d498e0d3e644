"""Journal reclaim: stored segments go after a grace (clean exit) or a day (crash), never sooner."""

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from orca.collector import Collector, CollectorConfig, collector_status
from orca.journal import JournalSink, list_segments

MIN = 60


def _config(**kw: Any) -> CollectorConfig:
    return CollectorConfig(
        **{"search_every_s": 1e9, "prune_every_s": 1e9, "journal_gc_every_s": 1e9, **kw}
    )


def _exit(h: Any, pid: int) -> dict[str, Any]:
    rec = {**h.proc_start(pid), "event": "exit", "ts": 3}
    del rec["seq"]
    return rec


def _dead_pid() -> int:
    """The pid of another process that has exited."""
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


def _at(path: Path, seconds: float) -> int:
    """Nanoseconds ``seconds`` after the segment's last write."""
    return int((path.stat().st_mtime + seconds) * 1e9)


def test_clean_exit_goes_after_the_grace_crash_after_a_day(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """A cleanly exited writer's segment goes after 10 minutes; a crashed one's stays a day."""
    clean = write_segment(dead_pid, [h.proc_start(dead_pid), h.log("a", 2), _exit(h, dead_pid)])
    other = _dead_pid()
    crashed = write_segment(other, [h.proc_start(other), h.log("b", 2)])
    with Collector(home, _config()) as c:
        c.drain()
        assert c.delete_old_segments(_at(clean, 9 * MIN)) == []
        status = collector_status(home)
        assert status.journal_pending_bytes == clean.stat().st_size + crashed.stat().st_size
        assert c.delete_old_segments(_at(clean, 10 * MIN + 1)) == [clean.name]
        assert not clean.exists() and crashed.exists()
        assert c.delete_old_segments(_at(crashed, 23 * 3600)) == []
        assert c.delete_old_segments(_at(crashed, 24 * 3600 + 1)) == [crashed.name]
        assert c.store.totals().logs == 2
    assert collector_status(home).journal_pending_bytes == 0


def test_grace_is_configurable_and_none_keeps(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """``journal_grace`` sets the wait after a clean exit; None keeps such segments."""
    path = write_segment(dead_pid, [h.proc_start(dead_pid), _exit(h, dead_pid)])
    with Collector(home, _config(journal_grace=None)) as c:
        c.drain()
        assert c.delete_old_segments(_at(path, 7 * 24 * 3600)) == []
    with Collector(home, _config(journal_grace=timedelta(seconds=30))) as c:
        c.drain()
        assert c.delete_old_segments(_at(path, 31)) == [path.name]


def test_a_segment_with_unstored_bytes_stays(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """Bytes past the committed offset keep the segment until they are stored too."""
    path = write_segment(dead_pid, [h.proc_start(dead_pid), _exit(h, dead_pid)])
    with Collector(home, _config()) as c:
        c.drain()
        write_segment(dead_pid, [h.log("late", 4)])  # appended after the offsets were committed
        assert c.delete_old_segments(_at(path, 3600)) == []
        assert collector_status(home).segments[0].pending_deletion is False
        c.drain()
        assert c.store.totals().logs == 1
        assert c.delete_old_segments(_at(path, 3600)) == [path.name]


WRITER = """
import sys, orca
rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None)
log = rec.logger("agent")
for i in range(int(sys.argv[2])):
    with log.span("turn", attrs={"i": i}) as turn:
        turn.log.info(f"line {i}")
rec.close()
"""


def _counts(home: Path) -> tuple[int, int, int]:
    with sqlite3.connect(home / "store.sqlite", timeout=30) as conn:
        spans, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT span_id) FROM spans"
        ).fetchone()
        return spans, distinct, conn.execute("SELECT count(*) FROM logs").fetchone()[0]


@pytest.mark.slow
def test_sigkill_between_commit_and_deletion_loses_and_doubles_nothing(home: Path) -> None:
    """A collector killed after committing a segment, before deleting it: the next one deletes
    it, and the store holds every record exactly once."""
    n = 2000
    subprocess.run([sys.executable, "-c", WRITER, str(home), str(n)], check=True)
    [(_, segment)] = list_segments(home / "journal")
    collector = subprocess.Popen(
        [sys.executable, "-m", "orca", "collect", "--home", str(home), "--journal-grace", "1h"]
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # committed: every byte stored, writer settled
            st = collector_status(home)
            if st.segments and st.journal_pending_bytes == segment.stat().st_size:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the collector never committed the segment")
    finally:
        collector.send_signal(signal.SIGKILL)
        collector.wait()
    assert segment.exists()
    before = _counts(home)
    with Collector(home, _config(journal_grace=timedelta(0), journal_gc_every_s=0)) as c:
        result = c.drain()
        assert result.records == 0
        assert result.deleted_segments == [segment.name]
    assert not segment.exists()
    assert before == _counts(home) == (n, n, n)


def test_a_segment_gone_before_it_was_noted_is_noted(home: Path) -> None:
    """Killed after removing the file but before noting it: the next collector notes it."""
    sink = JournalSink(home / "journal", heartbeat_s=None, on_exit=False)
    sink.emit({"v": 1, "kind": "log", "ts": 5, "component": "w", "level": "info", "msg": "x"})
    sink.close()
    [(_, segment)] = list_segments(home / "journal")
    with Collector(home, _config(journal_grace=None)) as c:
        c.drain()
    segment.unlink()
    with Collector(home, _config(journal_gc_every_s=0)) as c:
        assert c.drain().records == 0
        assert c.store.totals().logs == 1
        [source] = c.store.sources()
        assert source.deleted_ns is not None


def test_status_and_collect_cli(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """`orca status` prints the bytes pending deletion; a bad `--journal-grace` exits 2."""
    from click.testing import CliRunner

    from orca.cli import cli

    path = write_segment(dead_pid, [h.proc_start(dead_pid), _exit(h, dead_pid)])
    runner = CliRunner()
    bad = runner.invoke(cli, ["collect", "--once", "--journal-grace", "soon", "--home", str(home)])
    assert bad.exit_code == 2 and "--journal-grace" in bad.output
    done = runner.invoke(cli, ["collect", "--once", "--journal-grace", "1h", "--home", str(home)])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["status", "--json", "--home", str(home)])
    data = orjson.loads(shown.output)
    size = path.stat().st_size
    assert data["journal_pending_deletion_bytes"] == data["journal_bytes"] == size
    text = runner.invoke(cli, ["status", "--home", str(home)]).output
    assert f"{size:,} bytes already stored, pending deletion" in text
