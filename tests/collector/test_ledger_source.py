"""The collector mirrors the ledger into the store: once, beside the journal, damage quarantined."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from orca.capture import Recorder
from orca.collector import LEDGER_SOURCE, Collector, CollectorConfig
from orca.ledger import Action, Ledger, ledger_path


def _config(**kw: Any) -> CollectorConfig:
    return CollectorConfig(search_every_s=1e9, prune_every_s=1e9, journal_gc_every_s=1e9, **kw)


def _turn_with_actions(home: Path) -> tuple[str, str, str]:
    """A recorded turn with a step; three governed actions naming the trace (two the step)."""
    with Recorder.open(home, heartbeat_s=None) as rec, Ledger.open(home) as led:
        turn = rec.logger("svc").span("turn")
        led.append(Action(kind="run.started", actor="orch", run="r1", trace=turn.trace_id))
        step = turn.child("step")
        led.append(
            Action(
                kind="envelope.accepted",
                actor="planner",
                run="r1",
                trace=turn.trace_id,
                span=step.span_id,
                args={"task": "triage"},
            )
        )
        led.append(
            Action(
                kind="envelope.rejected",
                actor="gate",
                run="r1",
                trace=turn.trace_id,
                span=step.span_id,
            )
        )
        step.end()
        turn.end()
        led.append(Action(kind="budget.warning", actor="budget", run="r2"))
        return turn.trace_id, turn.span_id, step.span_id


def test_entries_reach_the_trace_once(home: Path) -> None:
    """step() mirrors every signed entry; a second step and a restarted collector add nothing."""
    trace, _root, step = _turn_with_actions(home)
    with Collector(home, _config()) as c:
        first = c.step()
        assert first.ledger == 4 and first.drained
        assert c.step().ledger == 0
        rows = c.store.get_trace(trace)
        assert rows is not None
        assert [(e.id, e.kind, e.span_id) for e in rows.ledger] == [
            (1, "run.started", None),
            (2, "envelope.accepted", step),
            (3, "envelope.rejected", step),
        ]
        assert rows.ledger[1].args == {"task": "triage"} and rows.ledger[1].signature
        assert [e.id for e in c.store.ledger_entries(run="r2")] == [4]
    with Ledger.open(home) as led:
        led.append(Action(kind="task.completed", actor="worker", run="r1", trace=trace))
    with Collector(home, _config()) as c:
        again = c.drain()
        assert again.ledger == 1  # only the new entry
        assert [e.id for e in c.store.ledger_entries(trace=trace)] == [1, 2, 3, 5]
        assert c.store.ledger_entries(since_ns=c.store.ledger_entries()[-1].ts_ns, limit=5)
        assert [s.name for s in c.store.sources() if s.name == LEDGER_SOURCE] == [LEDGER_SOURCE]
        source = next(s for s in c.store.sources() if s.name == LEDGER_SOURCE)
        assert source.records == 5 and source.offset == ledger_path(home).stat().st_size


def test_backlog_shares_batches_with_the_journal(home: Path) -> None:
    """A long ledger takes at most half of each batch, so the journal still moves every step."""
    with Ledger.open(home) as led:
        for i in range(30):
            led.append(Action(kind="task.completed", args={"i": i}))
    with Recorder.open(home, heartbeat_s=None) as rec:
        log = rec.logger("svc")
        for i in range(30):
            log.info(f"m{i}")
    with Collector(home, _config(batch=10)) as c:
        s = c.step()
        assert s.ledger == 5 and s.records == 5 and not s.drained
        total = c.drain()
        assert total.ledger == 25 and c.store.totals().logs == 30
        assert [e.id for e in c.store.ledger_entries()] == list(range(1, 31))


def _flip_in_second_entry(home: Path) -> int:
    """Break the shape of entry 2 (the signed region); returns the byte offset of its line."""
    path = ledger_path(home)
    data = path.read_bytes()
    at = data.index(b'{"v":1,"id":2,')
    path.write_bytes(data[:at] + b"X" + data[at + 1 :])
    return at


def test_corrupt_ledger_is_quarantined_once_and_journal_keeps_flowing(home: Path) -> None:
    """Entries before the damage are mirrored; the damage is one quarantine row; logs still flow."""
    with Ledger.open(home) as led:
        for kind in ("run.started", "task.claimed", "task.completed"):
            led.append(Action(kind=kind, run="r1"))
    bad_at = _flip_in_second_entry(home)
    rec = Recorder.open(home, heartbeat_s=None)
    log = rec.logger("svc")
    log.info("before")
    with Collector(home, _config()) as c:
        first = c.step()
        assert first.ledger == 1 and first.quarantined == 1 and first.records == 2
        assert c.ledger.paused is not None and "orca verify" in c.ledger.paused
        log.info("after")
        for _ in range(3):
            again = c.step()
            assert again.quarantined == 0 and again.ledger == 0
        assert c.store.totals().logs == 2
        [q] = [q for q in c.store.quarantine() if q.source == LEDGER_SOURCE]
        assert q.offset == bad_at and "orca verify" in q.reason
        assert q.preview.startswith(b'X"v":1,"id":2,')
    log.info("after restart")
    rec.close()
    with Collector(home, _config()) as c:
        done = c.drain()
        assert done.quarantined == 0 and c.store.totals().logs == 3
        assert len([q for q in c.store.quarantine() if q.source == LEDGER_SOURCE]) == 1
        assert [e.id for e in c.store.ledger_entries()] == [1]
        # Repaired (say, restored from a backup): ingestion resumes where it stopped.
        path = ledger_path(home)
        data = path.read_bytes()
        path.write_bytes(data[:bad_at] + b"{" + data[bad_at + 1 :])
        assert c.drain().ledger == 2
        assert c.ledger.paused is None
        assert [e.id for e in c.store.ledger_entries()] == [1, 2, 3]


def test_a_shrunk_ledger_pauses_without_losing_rows(home: Path) -> None:
    """A ledger file cut below what was ingested is reported, and nothing mirrored is dropped."""
    with Ledger.open(home) as led:
        for _ in range(3):
            led.append(Action(kind="task.claimed"))
    with Collector(home, _config()) as c:
        assert c.step().ledger == 3
        path = ledger_path(home)
        path.write_bytes(path.read_bytes()[:10])
        s = c.step()
        assert s.quarantined == 1 and c.ledger.paused and "shrank" in c.ledger.paused
        assert c.step().quarantined == 0
        assert len(c.store.ledger_entries()) == 3


def test_torn_or_unsigned_tail_waits(home: Path) -> None:
    """Bytes after the last signature (a torn line) are not read, and are not damage."""
    with Ledger.open(home) as led:
        led.append(Action(kind="task.claimed"))
    with ledger_path(home).open("ab") as f:
        f.write(b'{"v":1,"id":2,"ts":1,"kind":"task.cl')
    with Collector(home, _config()) as c:
        s = c.step()
        assert s.ledger == 1 and s.quarantined == 0 and c.ledger.paused is None


def test_forget_reaches_the_mirror(home: Path) -> None:
    """An entry the ledger erased after ingest loses its mirrored payload too."""
    with Ledger.open(home) as led:
        led.append(Action(kind="task.claimed", args={"email": "a@example.com"}))
        led.append(
            Action(kind="task.completed", args={"note": 'decoy ","p":null }'}, meta={"p": None})
        )
    with Collector(home, _config()) as c:
        assert c.step().ledger == 2
        assert c.store.ledger_entries()[0].args == {"email": "a@example.com"}
        with Ledger.open(home) as led:
            assert led.forget(1)
        assert c.sync_erasures() == 1
        first, second = c.store.ledger_entries()
        assert first.erased and first.args is None and first.payload_hash
        assert not second.erased and second.meta == {"p": None}
        assert c.sync_erasures() == 0


def test_orca_collect_and_trace_in_subprocesses(home: Path) -> None:
    """`orca collect --once` mirrors the ledger; `orca trace` shows the actions inline, once."""
    trace, _, step = _turn_with_actions(home)

    def orca(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orca", *args, "--home", str(home)],
            capture_output=True,
            text=True,
            check=False,
        )

    done = orca("collect", "--once", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ledger_entries"] == 4
    again = orca("collect", "--once")
    assert again.returncode == 0 and ", 0 ledger entries into" in again.stdout
    shown = orca("trace", trace)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "actions=3" in lines[0]
    step_at = next(i for i, ln in enumerate(lines) if ln.startswith(step[:8]))
    assert lines[step_at + 1].endswith("  ⛓ #2 envelope.accepted by planner")
    assert lines[step_at + 2].endswith("  ⛓ #3 ✖ envelope.rejected by gate")
    assert sum("⛓ #1 run.started by orch" in ln for ln in lines) == 1
    doc = json.loads(orca("trace", "last", "--json").stdout)
    assert [ln["ledger"] for ln in doc["lines"] if ln["ledger"]] == [1, 2, 3]


def test_corrupt_ledger_from_the_cli(home: Path) -> None:
    """`orca collect --once` on a damaged ledger: journal ingested, one warning, exit 0."""
    with Ledger.open(home) as led:
        for kind in ("run.started", "task.claimed"):
            led.append(Action(kind=kind))
    _flip_in_second_entry(home)
    with Recorder.open(home, heartbeat_s=None) as rec:
        rec.logger("svc").info("hello")
    done = subprocess.run(
        [sys.executable, "-m", "orca", "collect", "--once", "--home", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("ingested 3 records, quarantined 1 lines")
    assert done.stderr.startswith("warning: ") and "orca verify" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    status = subprocess.run(
        [sys.executable, "-m", "orca", "status", "--home", str(home), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    ledger = json.loads(status.stdout)["ledger"]
    assert ledger["entries"] == 1 and ledger["quarantined"] == 1 and ledger["lag_bytes"] > 0
