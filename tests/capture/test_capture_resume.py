"""Recorder.resume: a handle on a span opened earlier, to close it or open children under it."""

from pathlib import Path

from orca.capture import Recorder
from orca.testing import journal_records


def test_resume_closes_a_span_opened_by_an_earlier_recorder(home: Path) -> None:
    """A span opened by one recorder is closed, and gets a child, through another's handle."""
    with Recorder.open(home, heartbeat_s=None) as first:
        root = first.logger("orchestrator").span("turn")
    with Recorder.open(home, heartbeat_s=None) as second:
        handle = second.resume("orchestrator", root.trace_id, root.span_id, "turn")
        handle.child("queue.enqueue").end()
        handle.end(attrs={"orca.run.status": "ok"})
    records = journal_records(home)
    child = next(r for r in records if r["kind"] == "span-open" and r["name"] == "queue.enqueue")
    assert (child["trace"], child["parent"]) == (root.trace_id, root.span_id)
    close = [r for r in records if r["kind"] == "span-close" and r["span"] == root.span_id]
    assert len(close) == 1 and close[0]["attrs"] == {"orca.run.status": "ok"}


def test_resume_on_a_disabled_recorder_is_a_noop(home: Path) -> None:
    """With recording off the handle writes nothing."""
    rec = Recorder.open(home, enabled=False)
    rec.resume("x", "1" * 32, "2" * 16).end()
    assert not (home / "journal").exists()
