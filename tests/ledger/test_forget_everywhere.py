"""Item 2: `forget` reaches every derived copy: working memory, sinks, the store and its WAL."""

from pathlib import Path

from orca.collector import Collector, CollectorConfig
from orca.ledger import Action, Ledger
from orca.ledger.memory import MemorySink, WorkingMemory

SECRET = b"erase.me.please@example.org"


def _files_holding(home: Path, needle: bytes) -> list[str]:
    return [str(p) for p in home.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _config() -> CollectorConfig:
    return CollectorConfig(
        search_every_s=0, prune_every_s=1e9, journal_gc_every_s=1e9, ledger_erase_every_s=0
    )


def test_item02_forget_reaches_every_derived_copy(home: Path) -> None:
    """After forget + one collector round no file under the home holds the erased value."""
    memory = WorkingMemory.open(home)
    with Ledger.open(home) as led:
        led.register_sink(MemorySink(memory))
        led.append(Action(kind="user.contact", args={"email": SECRET.decode()}))
        led.append(Action(kind="task.done", args={"n": 1}))
        assert led.wait_for_sinks(10)
        with Collector(home, _config()) as c:
            c.step()
            assert c.store.ledger_entries()[0].args == {"email": SECRET.decode()}
            assert _files_holding(home, SECRET)  # the value really was copied around
            assert led.forget(1)
            assert not any("erase.me" in m.content for m in memory.query())
            c.step()
            assert _files_holding(home, SECRET) == []  # the store is still open, WAL and all
    memory.close()
    assert _files_holding(home, SECRET) == []
    assert [m.entry_id for m in WorkingMemory.open(home).entries()] == [2]


def test_item02_forget_without_a_registered_sink_cleans_memory_file(home: Path) -> None:
    """`orca ledger forget` in another process: memory.ndjson loses the derived line anyway."""
    memory = WorkingMemory.open(home)
    with Ledger.open(home) as led:
        led.register_sink(MemorySink(memory))
        led.append(Action(kind="user.contact", args={"email": SECRET.decode()}))
        assert led.wait_for_sinks(10)
    memory.close()
    assert _files_holding(home, SECRET)
    with Ledger.open(home) as led:
        led.forget(1)
    assert _files_holding(home, SECRET) == []
