"""Sinks: told after durability, in order, isolated from the append and from each other."""

import threading
from pathlib import Path

from orca.ledger import Entry, Ledger, LedgerError, read_entries


class Collect:
    def __init__(self) -> None:
        self.ids: list[int] = []
        self.signed: list[bool] = []

    def on_entry(self, entry: Entry) -> None:
        self.ids.append(entry.id)
        self.signed.append(entry.signature is not None)


class Raises:
    def on_entry(self, entry: Entry) -> None:
        raise RuntimeError(f"boom at {entry.id}")


class Blocks:
    """A sink stuck until released: the worst kind of slow."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.ids: list[int] = []

    def on_entry(self, entry: Entry) -> None:
        self.release.wait()
        self.ids.append(entry.id)


def _append(led: Ledger, n: int) -> list[int]:
    return [led.append({"kind": "task.completed", "args": {"i": i}}).id for i in range(n)]


def test_failing_and_stuck_sinks_do_not_touch_appends_or_others(home: Path) -> None:
    """Appends return, in order, while one sink raises and one is stuck; the good one sees all."""
    good, stuck = Collect(), Blocks()
    led = Ledger.open(home)
    led.register_sink(Raises(), "raises")
    led.register_sink(stuck, "stuck")
    led.register_sink(good, "good")
    ids = _append(led, 30)  # would hang here if a stuck sink could block the append
    assert ids == list(range(1, 31))
    assert led.wait_for_sinks(10, names=("good", "raises"))
    assert not led.wait_for_sinks(0.01)  # the stuck one has not caught up
    stats = {s.name: s for s in led.sink_stats()}
    assert good.ids == ids and all(good.signed)
    assert stats["raises"].failures == 30 and stats["raises"].cursor == 30
    assert "boom at 30" in (stats["raises"].last_error or "")
    assert stuck.ids == []
    led.close(sink_timeout=0.05)
    stuck.release.set()


def test_stuck_sink_catches_up_after_restart(home: Path) -> None:
    """A sink abandoned at close resumes from its saved cursor in a new process-lifetime."""
    stuck = Blocks()
    led = Ledger.open(home)
    led.register_sink(stuck, "audit")
    _append(led, 10)
    led.close(sink_timeout=0.05)
    stuck.release.set()  # whatever it finishes now is not recorded as delivered
    again = Collect()
    with Ledger.open(home) as led2:
        led2.register_sink(again, "audit")
        _append(led2, 5)
        assert led2.wait_for_sinks(10)
    assert again.ids == sorted(again.ids)
    assert set(range(1, 16)) <= set(again.ids)
    assert again.ids[-1] == 15


def test_cursor_resumes_without_redelivery(home: Path) -> None:
    """A sink that kept up is not told about old entries again after a restart."""
    first = Collect()
    with Ledger.open(home) as led:
        led.register_sink(first, "mirror")
        _append(led, 4)
        assert led.wait_for_sinks(10)
    second = Collect()
    with Ledger.open(home) as led:
        led.register_sink(second, "mirror")
        _append(led, 2)
        assert led.wait_for_sinks(10)
    assert first.ids == [1, 2, 3, 4]
    assert second.ids == [5, 6]


def test_new_sink_sees_history_then_live_entries(home: Path) -> None:
    """A sink registered late first receives the existing entries, then new ones, in id order."""
    with Ledger.open(home) as led:
        _append(led, 3)
    late = Collect()
    with Ledger.open(home) as led:
        led.register_sink(late, "late")
        _append(led, 2)
        assert led.wait_for_sinks(10)
    assert late.ids == [1, 2, 3, 4, 5]


def test_overflowing_queue_falls_back_to_the_file(home: Path) -> None:
    """More than max_queue behind: the sink reads what it missed from the ledger, in order."""
    slow = Blocks()
    with Ledger.open(home) as led:
        led.register_sink(slow, "slow", max_queue=3)
        _append(led, 12)
        slow.release.set()
        assert led.wait_for_sinks(10)
        assert [s.catching_up for s in led.sink_stats()] == [False]
    assert slow.ids == list(range(1, 13))
    assert [e.id for e in read_entries(home).entries] == slow.ids


def test_concurrent_appends_reach_sinks_in_id_order(home: Path) -> None:
    """Appends from six threads reach a sink exactly once each, in id order."""
    seen = Collect()
    with Ledger.open(home) as led:
        led.register_sink(seen, "order")

        def work() -> None:
            _append(led, 20)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert led.wait_for_sinks(10)
    assert seen.ids == list(range(1, 121))


def test_sink_names_are_checked(home: Path) -> None:
    """A duplicate or path-like sink name is refused; an empty one falls back to the class name."""
    with Ledger.open(home) as led:
        led.register_sink(Collect(), "one")
        for bad in ("one", "../escape", ""):
            try:
                led.register_sink(Collect(), bad or None)
            except LedgerError:
                continue
            assert bad == "", bad  # the empty name falls back to the class name
