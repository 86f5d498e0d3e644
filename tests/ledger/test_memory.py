"""Working memory: derived from ledger entries online, idempotent, rebuildable to the same state."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca.ledger import Ledger, read_entries
from orca.ledger.memory import BASE_TAGS, MemorySink, WorkingMemory, derive
from orca.testing import temp_home

KINDS = ["run.started", "Task.Claimed", "task.completed", "policy.decision", "budget.warning"]
actions = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(KINDS),
            "actor": st.one_of(st.none(), st.sampled_from(["planner", "coder"])),
            "run": st.sampled_from(["r1", "r2"]),
            "args": st.dictionaries(
                st.sampled_from("abc"), st.integers(-(2**63), 2**63 - 1), max_size=2
            ),
        }
    ),
    min_size=1,
    max_size=12,
)


def test_one_memory_per_entry_with_tags_summary_and_provenance(home: Path) -> None:
    """The memory sink makes one memory per entry: tags, summary, content, signature."""
    wm = WorkingMemory.open(home)
    with Ledger.open(home) as led:
        led.register_sink(MemorySink(wm))
        led.append({"kind": "Task.Claimed", "actor": "coder", "run": "r1", "args": {"t": 1}})
        led.append({"kind": "run.started", "run": "r2", "trace": "a" * 32})
        assert led.wait_for_sinks(10)
    newest, oldest = wm.query()
    assert oldest.tags == (*BASE_TAGS, "task.claimed")
    assert oldest.summary == "coder" and newest.summary == "run.started"
    assert oldest.content == 'args={"t":1}; result=null; meta=null'
    entries = read_entries(home).entries
    assert oldest.provenance == entries[0].signature and oldest.key == entries[0].key
    assert newest.trace == "a" * 32 and newest.run == "r2"


def test_query_filters_and_orders_newest_first(home: Path) -> None:
    """WorkingMemory.query filters by tags, run and time and returns the newest first."""
    wm = WorkingMemory.open(home)
    with Ledger.open(home) as led:
        for i in range(6):
            led.append({"kind": KINDS[i % 2], "run": f"r{i % 2}", "args": {"i": i}})
    wm.rebuild_from_ledger(home)
    assert [m.entry_id for m in wm.query(limit=3)] == [6, 5, 4]
    assert [m.entry_id for m in wm.query(tags=["task.claimed"])] == [6, 4, 2]
    assert [m.entry_id for m in wm.query(tags=["wisdom", "run.started"], run="r0")] == [5, 3, 1]
    since = read_entries(home).entries[3].ts
    assert all(m.ts >= since for m in wm.query(since=since))
    assert wm.query(tags=["nope"]) == []


def test_reingest_is_a_no_op_and_survives_reopen(home: Path) -> None:
    """Ingesting the same entries again adds nothing, also after reopening the memory file."""
    with Ledger.open(home) as led:
        for i in range(4):
            led.append({"kind": "task.completed", "args": {"i": i}})
    entries = read_entries(home).entries
    wm = WorkingMemory.open(home)
    assert wm.ingest_many(entries) == 4
    assert wm.ingest_many(entries) == 0
    assert not wm.ingest(entries[0])
    wm.close()
    again = WorkingMemory.open(home)
    assert again.entries() == wm.entries()
    assert again.ingest_many(entries) == 0


def test_forget_drops_derived_memory(home: Path) -> None:
    """An entry erased in the ledger leaves no payload in the memory rebuilt from it."""
    with Ledger.open(home) as led:
        led.append({"kind": "task.completed", "args": {"email": "x@example.com"}})
        led.append({"kind": "task.completed"})
        led.forget(1)
    wm = WorkingMemory.open(home)
    wm.rebuild_from_ledger(home)
    assert "x@example.com" not in (home / "ledger" / "memory.ndjson").read_text()
    assert wm.forget(1) == 1 and [m.entry_id for m in wm.entries()] == [2]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions, st.integers(min_value=0, max_value=12))
def test_rebuild_equals_online_ingest(acts: list[dict[str, object]], restart_at: int) -> None:
    """Online ingestion (with a restart in the middle) and a rebuild give the same memory."""
    with temp_home() as home:
        online = WorkingMemory.open(home)
        led = Ledger.open(home)
        try:
            led.register_sink(MemorySink(online))
            for i, a in enumerate(acts):
                if i == restart_at:
                    led.close()
                    led = Ledger.open(home)
                    led.register_sink(MemorySink(online))
                led.append(a)
            assert led.wait_for_sinks(10)
        finally:
            led.close()
        rebuilt = WorkingMemory(None)
        rebuilt.rebuild_from_ledger(home)
        assert rebuilt.entries() == online.entries()
        assert len(online.entries()) == len(acts)
        assert [derive(e) for e in read_entries(home).entries] == rebuilt.entries()
        reloaded = WorkingMemory.open(home)
        assert reloaded.entries() == online.entries()
        assert reloaded.ingest_many(read_entries(home).entries) == 0
