"""`orca migrate SRC DST`: a SQLite store copied into each engine, resumable, verified."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orca.cli import cli
from orca.store import (
    Batch,
    Item,
    Quarantine,
    RetentionPolicy,
    TraceStore,
    migrate,
    open_store,
)
from orca.testing import capture_records


def _source(path: Path | str) -> TraceStore:
    """A store (SQLite unless given a URL) with 6 turns, a crash, a pin, a roll-up, a loose log
    and a quarantined line."""
    with capture_records() as (rec, records):
        log = rec.logger("svc")
        for i in range(6):
            turn = log.span("turn", attrs={"gen_ai.conversation.id": f"c{i}"})
            turn.log.info(f"turn {i}")
            turn.log.info(f"turn {i}, again")  # two logs of one trace: each its own identity
            step = turn.child("step", attrs={"gen_ai.request.model": "m"}, body=f"PROMPT {i}")
            step.end(attrs={"gen_ai.usage.input_tokens": i}, body=bytes([0xFF, i]).hex())
            tool = turn.child("tool-call", attrs={"gen_ai.tool.name": "t"})
            tool.add_link(step, reason="caused-by")
            tool.end(status="error" if i == 3 else None)
            turn.end()
        log.info("a log outside any trace", attrs={"k": "v"})
        old = log.span("turn-of-last-year")
        old.end()
        cut = log.span("turn")
        cut.child("step")
    rows = [dict(r) for r in records]
    for r in rows:
        if r.get("trace") == old.trace_id:
            r["ts"] -= 400 * 86_400 * 10**9  # rolled up and pruned below
    store = open_store(path, create=True)
    seg = "11-22-000000.ndjson"
    batch = Batch([Item(r, seg, i) for i, r in enumerate(rows)], offsets={seg: len(rows) + 10})
    batch.quarantined.append(Quarantine(seg, len(rows), 10, "not JSON", b"{oops"))
    store.apply(batch)
    store.prune(RetentionPolicy(max_total_body_bytes=None))
    store.attribute_crash("11-22", detected_ns=rows[-1]["ts"] + 1)
    store.pin(store.list_traces(limit=None)[-1].trace_id)
    return store


def _snapshot(store: TraceStore) -> list[Any]:
    out = []
    for t in store.list_traces(limit=None):
        rows = store.get_trace(t.trace_id)
        assert rows is not None
        # the writer's pid belongs to the source's processes table, which is not copied
        out.append(
            (
                rows.summary,
                [(s.span_id, s.status, s.attrs, s.synthetic) for s in rows.spans],
                rows.logs,
                rows.links,
            )
        )
    return out


def _extras(store: TraceStore) -> list[Any]:
    """What is not a trace: loose logs (by search), quarantine, roll-ups, writers."""
    store.catch_up_search()  # the collector's chore (SQLite indexes lazily)
    hits = store.search("outside", where="logs")
    quarantined = [(q.source, q.offset, q.length, q.reason, q.preview) for q in store.quarantine()]
    writers = [(p.writer, p.pid, p.pstart, p.exited_ns, p.crashed_ns) for p in store.processes()]
    return [[(h.trace_id, h.snippet) for h in hits], quarantined, store.rollups(), writers]


def test_migrate_copies_resumes_and_verifies(tmp_path: Path, store: TraceStore) -> None:
    """Stopped after its first batch and run again: every trace once, read back the same."""
    src = _source(tmp_path / "src.sqlite")
    with src:

        class Stop(Exception):
            pass

        def stop_after_first(done: int, total: int) -> None:
            if 0 < done < total:
                raise Stop

        with pytest.raises(Stop):
            migrate(src, store, batch_records=10, progress=stop_after_first)
        result = migrate(src, store, batch_records=10)
        assert result.ok and result.traces == 7 and 0 < result.copied < 7
        assert (result.extras.logs, result.extras.quarantined) == (1, 1)
        assert (result.extras.rollups, result.extras.processes) == (1, 1)
        again = migrate(src, store)
        assert (again.copied, again.records) == (0, 0) and again.ok
        assert again.extras == type(again.extras)()  # nothing twice
        assert _extras(store) == _extras(src)
        for got, want in zip(_snapshot(store), _snapshot(src), strict=True):
            for part_got, part_want in zip(got, want, strict=True):
                assert part_got == part_want
        crashed = [t for t in store.list_traces(limit=None) if t.status == "crashed"]
        assert len(crashed) == 1
        step = next(s for s in store.find_spans(name="step") if s.response_body)
        assert store.get_body(step.response_body or "") == src.get_body(step.response_body or "")


def test_migrate_out_of_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The other way: a PostgreSQL store into SQLite, traces and the rest read back the same."""
    with _source(pg_url) as src, open_store(tmp_path / "dst.sqlite", create=True) as dst:
        result = migrate(src, dst)
        assert result.ok and result.copied == 7 and result.extras == (1, 1, 1, 1)
        assert _extras(dst) == _extras(src)
        assert _snapshot(dst) == _snapshot(src)


def test_migrate_command(tmp_path: Path, store_url: str) -> None:
    """The command copies into the URL it is given and says so in JSON; SRC == DST is refused."""
    src_path = tmp_path / "src.sqlite"
    _source(src_path).close()
    src_url = f"sqlite://{src_path}"
    out = CliRunner().invoke(cli, ["migrate", src_url, store_url, "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert (doc["traces"], doc["copied"], doc["ok"]) == (7, 7, True)
    assert doc["extras"] == {"logs": 1, "quarantined": 1, "rollups": 1, "processes": 1}
    again = CliRunner().invoke(cli, ["migrate", src_url, store_url])  # resumed: nothing new
    assert again.exit_code == 0, again.output
    assert "copied 0 of 7 traces" in again.output and "and 0 loose logs" in again.output
    same = CliRunner().invoke(cli, ["migrate", src_url, src_url])
    assert same.exit_code == 2 and "same store" in same.output
