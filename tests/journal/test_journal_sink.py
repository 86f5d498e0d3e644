"""The fail-safe journal sink: one line per record, segments per process, never raises."""

import os
import threading
import warnings
from pathlib import Path
from typing import Any

from orca.journal import JournalReader, JournalSink, list_segments, read_records
from orca.testing import journal_records


def _sink(home: Path, **kw: Any) -> JournalSink:
    kw.setdefault("heartbeat_s", None)
    kw.setdefault("on_exit", False)
    return JournalSink(home / "journal", **kw)


def _log(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "log",
        "ts": i,
        "component": "t",
        "level": "info",
        "msg": f"m{i}",
        **extra,
    }


def test_segment_starts_with_proc_start_and_ends_with_exit(home: Path) -> None:
    """The first record names the writer (pid, start, host, argv, version); close writes exit."""
    sink = _sink(home)
    sink.emit(_log(1))
    sink.close()
    sink.close()  # idempotent
    records = journal_records(home)
    assert [r["kind"] for r in records] == ["proc", "log", "proc"]
    start, _, end = records
    assert start["event"] == "start" and start["pid"] == os.getpid()
    assert {"host", "argv", "version", "seq"} <= start.keys()
    assert end["event"] == "exit" and end["dropped"] == 0
    ((name, _),) = list_segments(home / "journal")
    assert name.pid == os.getpid() and name.seq == 0


def _assert_one_warning(caught: list[warnings.WarningMessage]) -> None:
    ours = [w for w in caught if "journal record dropped" in str(w.message)]
    assert len(ours) == 1


def test_full_disk_is_counted_and_swallowed(home: Path) -> None:
    """Writes to a full device (/dev/full) never raise; drops are counted; one warning."""
    sink = _sink(home)
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, sink.fd)
    os.close(full)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(5):
            sink.emit(_log(i))
    assert sink.dropped == 5
    assert sink.drop_reasons == {"write": 5}
    _assert_one_warning(caught)


def test_closed_descriptor_is_counted_and_swallowed(home: Path) -> None:
    """A descriptor closed behind the sink's back: counted, warned once, never raised."""
    sink = _sink(home)
    os.close(sink.fd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sink.emit(_log(1))
        sink.emit(_log(2))
    assert sink.dropped == 2
    _assert_one_warning(caught)


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


def test_unserialisable_value_is_counted_and_swallowed(home: Path) -> None:
    """A value neither orjson nor str() can encode drops that record only."""
    sink = _sink(home)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sink.emit(_log(1, attrs={"bad": Unprintable()}))
        sink.emit(_log(2, attrs={"nested": {"a": [1, 2]}, "big": 2**70}))
    assert sink.dropped == 1 and sink.drop_reasons == {"unserialisable": 1}
    _assert_one_warning(caught)
    sink.close()
    logs = [r for r in journal_records(home) if r["kind"] == "log"]
    assert [r["msg"] for r in logs] == ["m2"]
    assert logs[0]["attrs"] == {"nested": '{"a":[1,2]}', "big": str(2**70)}


def test_oversize_record_is_counted_and_swallowed(home: Path) -> None:
    """A record over the limit that cannot be cut (its message) is dropped whole, never in part."""
    sink = _sink(home, max_record_bytes=1024)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sink.emit({**_log(1), "msg": "x" * 2000})
        sink.emit(_log(2))
    assert sink.drop_reasons == {"oversize": 1}
    _assert_one_warning(caught)
    sink.close()
    assert [r.get("msg") for r in journal_records(home) if r["kind"] == "log"] == ["m2"]


def test_oversize_attributes_are_replaced_by_their_count(home: Path) -> None:
    """Attributes too big for the limit give way to `orca.attrs.dropped`; the record stays."""
    sink = _sink(home, max_record_bytes=1024)
    sink.emit(_log(1, attrs={"body": "x" * 2000, "k": 1}))
    assert sink.dropped == 0
    sink.close()
    logs = [r for r in journal_records(home) if r["kind"] == "log"]
    assert logs[0]["attrs"] == {"orca.attrs.dropped": 2}


def test_warnings_as_errors_do_not_escape(home: Path) -> None:
    """Even with warnings turned into errors (as in this suite), emit never raises."""
    sink = _sink(home)
    os.close(sink.fd)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sink.emit(_log(1))
    assert sink.dropped == 1


def test_rotation_keeps_every_record_in_order(home: Path) -> None:
    """Past the size limit a new segment starts (with a 'segment' proc record); nothing is lost."""
    sink = _sink(home, rotate_bytes=2048)
    for i in range(200):
        sink.emit(_log(i, attrs={"pad": "p" * 50}))
    sink.close()
    segments = list_segments(home / "journal")
    assert len(segments) > 5
    assert [name.seq for name, _ in segments] == list(range(len(segments)))
    for name, path in segments:
        with path.open("rb") as f:
            first = read_records(f)[0][0]
        assert first["kind"] == "proc"
        assert first["event"] == ("start" if name.seq == 0 else "segment")
    logs = [r for r in journal_records(home) if r["kind"] == "log"]
    assert [r["ts"] for r in logs] == list(range(200))


def test_heartbeat_thread_writes_proc_records(home: Path) -> None:
    """With an interval set, a daemon thread writes heartbeat records while the process lives."""
    sink = _sink(home, heartbeat_s=0.02)
    beat = threading.Event()
    for _ in range(500):
        if any(r.get("event") == "heartbeat" for r in journal_records(home)):
            beat.set()
            break
        beat.wait(0.01)
    sink.close()
    assert beat.is_set()


def test_threads_write_whole_lines(home: Path) -> None:
    """Concurrent threads (with large records) produce only whole, valid lines."""
    sink = _sink(home)
    body = "b" * 3000

    def work(t: int) -> None:
        for i in range(300):
            sink.emit(_log(i, attrs={"thread": t, "body": body}))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    ((_, path),) = list_segments(home / "journal")
    with path.open("rb") as f:
        reader = JournalReader(f)
        parsed = list(reader.records())
    assert all(p.error is None for p in parsed)
    assert reader.pending == 0
    per_thread = [
        sum(1 for p in parsed if p.record and p.record.get("attrs", {}).get("thread") == t)
        for t in range(2)
    ]
    assert per_thread == [300, 300]


def test_oversize_limit_default_allows_large_bodies(home: Path) -> None:
    """A 1 MiB body (a long prompt) is well within the default record limit."""
    sink = _sink(home)
    sink.emit(_log(1, attrs={"body": "x" * (1 << 20)}))
    sink.close()
    assert sink.dropped == 0


def test_fork_child_gets_its_own_segment(home: Path) -> None:
    """A forked child writes to a segment named for its own pid, never the parent's."""
    sink = _sink(home)
    sink.emit(_log(1))
    pid = os.fork()
    if pid == 0:  # child
        try:
            sink.emit(_log(2))
            sink.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    sink.emit(_log(3))
    sink.close()
    by_pid: dict[int, list[int]] = {}
    for name, path in list_segments(home / "journal"):
        with path.open("rb") as f:
            for r in read_records(f)[0]:
                if r["kind"] == "log":
                    by_pid.setdefault(name.pid, []).append(r["ts"])
    assert by_pid == {os.getpid(): [1, 3], pid: [2]}
