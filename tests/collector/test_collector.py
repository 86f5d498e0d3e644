"""The collector's step: ingest, quarantine, crash attribution, rotation, journal retention."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orca.capture import Recorder
from orca.collector import TORN_REASON, Collector, CollectorConfig, CollectorLocked
from orca.store import CRASH_SPAN_NAME


def _config(**kw: Any) -> CollectorConfig:
    return CollectorConfig(search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9, **kw)


def test_ingests_a_recorded_turn_once(home: Path) -> None:
    """Records reach the store; a restarted collector continues from the offsets."""
    rec = Recorder.open(home, heartbeat_s=None)
    log = rec.logger("svc")
    with log.span("turn") as turn:
        turn.log.info("hi")
        turn.child("step").end()
    with Collector(home, _config()) as c:
        first = c.step()
        assert first.records == 6 and first.drained  # proc start + 2 opens, 2 closes, 1 log
        assert c.step().records == 0
    rec.close()
    with Collector(home, _config()) as c:
        again = c.drain()
        assert again.records == 1  # only the exit record is new
        [trace] = c.store.list_traces()
        assert trace.span_count == 2 and trace.status == "ok"
        assert c.store.totals().logs == 1


def test_second_collector_is_refused(home: Path) -> None:
    """Two collectors on one home cannot both write: the second names the first."""
    with Collector(home, _config()):
        with pytest.raises(CollectorLocked, match=f"pid {os.getpid()}"):
            Collector(home, _config())
    Collector(home, _config()).close()  # free again once the first closed


def test_batches_are_bounded(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """A batch holds at most `batch` records; draining takes several steps."""
    records = [h.proc_start(dead_pid)] + [h.log(f"m{i}", 10 + i) for i in range(25)]
    write_segment(dead_pid, [*records, {**h.proc_start(dead_pid), "event": "exit"}])
    with Collector(home, _config(batch=10)) as c:
        steps = [c.step() for _ in range(3)]
        assert [s.records for s in steps] == [10, 10, 7]
        assert [s.drained for s in steps] == [False, False, True]
        assert c.store.totals().logs == 25


def test_garbage_torn_truncated_and_rotated(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """Everything valid is ingested; everything else is quarantined with a reason."""
    p, t = dead_pid, h.T1
    write_segment(
        p,
        [
            h.proc_start(p),
            h.span_open(t, h.S[0], "turn", 10),
            b"this is not json\n",
            b'{"v": 1, "kind": "log"}\n',
            b'{"v":1,"kind":"log","ts":11,"component":"app","level":"info","msg":"'
            + b"x" * 3000
            + b'"}\n',
            h.log("after garbage", 12),
        ],
    )
    write_segment(
        p,
        [h.proc_start(p, seq=1), h.span_close(t, h.S[0], 20), b'{"v":1,"kind":"log","ts'],
        seq=1,
    )
    other = write_segment(p + 1 if p + 1 != os.getpid() else p + 2, [h.log("will shrink", 5)])
    with Collector(home, _config()) as c:
        c.journal.max_line_bytes = 1000
        c.drain()
        with other.open("r+b") as f:
            f.truncate(4)
        done = c.drain()
        store = c.store
        [trace] = store.list_traces()
        assert trace.status == "ok"
        turn = store.get_span(h.S[0])
        assert turn is not None and turn.status == "ok" and turn.end_ns == 20
        assert [log.msg for log in store.get_trace(t).logs] == []
        assert store.totals().logs == 2  # "after garbage" and "will shrink"
        reasons = {(q.source.split("-")[-1], q.reason.split(":")[0]) for q in store.quarantine()}
        assert ("000000.ndjson", "not valid JSON") in reasons
        assert ("000000.ndjson", "ts") in reasons or ("000000.ndjson", "level") in reasons
        assert any("longer than 1000 bytes" in q.reason for q in store.quarantine())
        assert ("000001.ndjson", TORN_REASON) in reasons
        assert any("truncated from" in q.reason for q in store.quarantine())
        assert len(store.quarantine()) == 5
        assert done.torn == 0  # the torn tail went in the first drain
        torn = next(q for q in store.quarantine() if q.reason == TORN_REASON)
        assert torn.preview == b'{"v":1,"kind":"log","ts'
        assert all(s.offset <= (home / "journal" / s.name).stat().st_size for s in store.sources())


def test_crash_attribution_names_the_last_span(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """A dead writer's open traces each get one crash span; a second look adds nothing."""
    p = dead_pid
    write_segment(
        p,
        [
            h.proc_start(p),
            h.span_open(h.T1, h.S[0], "turn", 10),
            h.span_open(h.T1, h.S[1], "step", 11, parent=h.S[0]),
            h.span_close(h.T1, h.S[1], 12),
            h.span_open(h.T1, h.S[2], "tool-call", 13, parent=h.S[0]),
            h.span_open(h.T2, h.S[3], "turn", 14),
            h.span_close(h.T2, h.S[3], 15),
            h.span_open(h.T2, h.S[4], "late", 16),
        ],
    )
    with Collector(home, _config()) as c:
        r = c.drain()
        assert r.crash_spans == 2 and r.crashed == [f"{p}-1000"]
        rows = c.store.get_trace(h.T1)
        [crash] = [s for s in rows.spans if s.name == CRASH_SPAN_NAME]
        assert crash.parent_id == h.S[0] and crash.status == "error" and crash.synthetic
        assert crash.attrs["orca.crash.after_span"] == h.S[2]
        assert crash.attrs["orca.crash.after_name"] == "tool-call"
        assert crash.attrs["orca.crash.pid"] == p
        assert crash.attrs["exception.message"] == (
            f"process {p} exited unexpectedly after span tool-call ({h.S[2]})"
        )
        assert rows.summary.status == "crashed" and rows.summary.unfinished_count == 2
        assert {s.name: s.status for s in rows.spans}["tool-call"] == "unfinished"
        assert c.step().crash_spans == 0
    with Collector(home, _config()) as c:
        assert c.drain().crash_spans == 0
        assert len([s for s in c.store.find_spans(name=CRASH_SPAN_NAME)]) == 2


def test_clean_exit_is_not_a_crash(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """A writer that recorded its exit gets no crash span; its open span stays unfinished."""
    p = dead_pid
    write_segment(
        p,
        [
            h.proc_start(p),
            h.span_open(h.T1, h.S[0], "turn", 10),
            {**h.proc_start(p), "event": "exit"},
        ],
    )
    with Collector(home, _config()) as c:
        assert c.drain().crash_spans == 0
        assert c.store.get_span(h.S[0]).status == "unfinished"


def test_pid_reuse_does_not_fool_it(home: Path, write_segment: Any, h: Any) -> None:
    """Our own (live) pid with another start time is a dead writer; with ours, alive."""
    me = os.getpid()
    write_segment(me, [h.proc_start(me, h.own_pstart()), h.span_open(h.T1, h.S[0], "turn", 10)])
    write_segment(
        me,
        [h.proc_start(me, h.own_pstart() + 1), h.span_open(h.T2, h.S[1], "turn", 10)],
        start_ns=2000,
    )
    with Collector(home, _config()) as c:
        r = c.drain()
        assert r.crashed == [f"{me}-2000"]
        assert c.store.get_trace(h.T1).summary.status == "unfinished"
        assert c.store.get_trace(h.T2).summary.status == "crashed"


def test_stale_heartbeat_means_dead(home: Path, write_segment: Any, h: Any) -> None:
    """A writer whose pid cannot be checked (another host) is dead once its heartbeats stop."""
    me = os.getpid()
    start = {**h.proc_start(me, h.own_pstart()), "host": "another-host"}
    beat = {**start, "event": "heartbeat", "ts": 100}
    del beat["seq"]
    write_segment(me, [start, h.span_open(h.T1, h.S[0], "turn", 50), beat])
    with Collector(home, _config(stale_heartbeat_s=60)) as c:
        assert c.step(now_ns=100 + 59 * 10**9).crash_spans == 0
        assert c.step(now_ns=100 + 61 * 10**9).crash_spans == 1


def test_item06_crash_verdict_withdrawn_when_writer_speaks_again(
    home: Path, write_segment: Any, h: Any
) -> None:
    """Records arriving after a crash verdict withdraw it: no crash span, trace not crashed."""
    me = os.getpid()
    start = {**h.proc_start(me, h.own_pstart()), "host": "another-host"}
    beat = {**start, "event": "heartbeat", "ts": 100}
    del beat["seq"]
    write_segment(me, [start, h.span_open(h.T1, h.S[0], "turn", 50), beat])
    with Collector(home, _config(stale_heartbeat_s=60)) as c:
        assert c.step(now_ns=100 + 61 * 10**9).crash_spans == 1
        assert c.store.get_trace(h.T1).summary.status == "crashed"
        write_segment(me, [h.span_close(h.T1, h.S[0], 200)])
        c.step(now_ns=100 + 62 * 10**9)
        trace = c.store.get_trace(h.T1)
        assert [s.name for s in trace.spans] == ["turn"]
        assert trace.summary.status == "ok"


def test_old_segments_of_gone_writers_are_deleted(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """The journal is the queue: fully ingested segments of exited writers go after a day."""
    path = write_segment(dead_pid, [h.proc_start(dead_pid), h.log("x", 2)])
    live = write_segment(os.getpid(), [h.proc_start(os.getpid(), h.own_pstart())], start_ns=5)
    with Collector(home, _config(journal_retention=timedelta(days=1))) as c:
        c.drain()
        now = int((path.stat().st_mtime + 3600) * 1e9)
        assert c.delete_old_segments(now) == []
        later = int((path.stat().st_mtime + 86400 + 1) * 1e9)
        assert c.delete_old_segments(later) == [path.name]
        assert not path.exists() and live.exists()
        assert c.drain().records == 0
        assert c.store.totals().logs == 1
        [gone] = [s for s in c.store.sources() if s.name == path.name]
        assert gone.deleted_ns == later


def test_writer_drops_are_reported(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """Drops a writer reports in heartbeat and exit records reach `orca status`."""
    from orca.collector import collector_status

    beat = {**h.proc_start(dead_pid), "event": "heartbeat", "dropped": 2}
    end = {**h.proc_start(dead_pid), "event": "exit", "dropped": 5}
    del beat["seq"], end["seq"]
    write_segment(dead_pid, [h.proc_start(dead_pid), beat, end])
    with Collector(home, _config()) as c:
        c.drain()
    status = collector_status(home)
    assert status.writer_drops == 5
    [seg] = status.segments
    assert (seg.state, seg.lag_bytes, seg.records) == ("exited", 0, 3)
