"""Real processes: SIGKILL mid-turn, concurrent writers, clean exit at interpreter exit."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from orca.journal import JournalReader, list_segments
from orca.testing import journal_records

CHILD_MID_TURN = textwrap.dedent(
    """
    import sys, time, orca
    rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None)
    log = rec.logger("doomed-agent")
    turn = log.span("turn", attrs={"gen_ai.conversation.id": "c1"})
    for i in range(3):
        step = turn.child("step", attrs={"i": i})
        step.log.info("thinking")
        step.end()
    last = turn.child("tool-call", attrs={"gen_ai.tool.name": "shell"})
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_mid_turn_leaves_every_record_readable(home: Path) -> None:
    """kill -9 loses nothing written: the last span is open with no close, and no exit record."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD_MID_TURN, str(home)], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    records = journal_records(home)
    opens = {r["span"]: r for r in records if r["kind"] == "span-open"}
    closed = {r["span"] for r in records if r["kind"] == "span-close"}
    unfinished = [opens[s]["name"] for s in opens if s not in closed]
    assert unfinished == ["turn", "tool-call"]
    assert sum(1 for r in records if r["kind"] == "log") == 3
    assert not any(r["kind"] == "proc" and r["event"] == "exit" for r in records)
    ((_, path),) = list_segments(home / "journal")
    with path.open("rb") as f:
        reader = JournalReader(f)
        assert all(p.error is None for p in reader.records())
        assert reader.pending == 0


CHILD_WRITER = textwrap.dedent(
    """
    import sys, threading, orca
    rec = orca.Recorder.open(sys.argv[1], heartbeat_s=None, rotate_bytes=256 * 1024)
    log = rec.logger("writer-" + sys.argv[2])
    body = "x" * 2500

    def work(t):
        for i in range(400):
            with log.span("step", attrs={"t": t, "i": i}, body=body) as s:
                s.log.info("line", attrs={"t": t})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
    """
)


def test_two_processes_with_two_threads_write_only_whole_lines(home: Path) -> None:
    """Concurrent processes and threads (rotating segments) yield only whole, valid lines."""
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD_WRITER, str(home), str(n)]) for n in range(2)
    ]
    for p in procs:
        assert p.wait() == 0
    segments = list_segments(home / "journal")
    assert len({name.pid for name, _ in segments}) == 2
    counts: dict[str, int] = {}
    for _, path in segments:
        with path.open("rb") as f:
            reader = JournalReader(f)
            for parsed in reader.records():
                assert parsed.error is None, parsed.error
                rec = parsed.record
                assert rec is not None
                counts[rec["kind"]] = counts.get(rec["kind"], 0) + 1
            assert reader.pending == 0
    assert counts["span-open"] == counts["span-close"] == counts["log"] == 2 * 2 * 400
    exits = [r for r in journal_records(home) if r["kind"] == "proc" and r["event"] == "exit"]
    assert len(exits) == 2  # written at interpreter exit, without an explicit close()


def test_same_file_appends_from_two_processes_do_not_interleave(tmp_path: Path) -> None:
    """O_APPEND makes each write land whole even when two processes share one file."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from orca.journal import AppendFile
        f = AppendFile(Path(sys.argv[1]))
        line = (sys.argv[2] * 4000 + "\\n").encode()
        for _ in range(500):
            f.append(line)
        """
    )
    path = tmp_path / "shared.ndjson"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), c]) for c in "ab"]
    for p in procs:
        assert p.wait() == 0
    lines = path.read_bytes().split(b"\n")[:-1]
    assert len(lines) == 1000
    assert all(line in (b"a" * 4000, b"b" * 4000) for line in lines)
