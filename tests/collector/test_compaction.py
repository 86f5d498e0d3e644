"""The collector compacts only when idle, a bounded step a round, on its cadence."""

import random
from pathlib import Path
from typing import Any

from orca.collector import Collector, CollectorConfig


def _config(**kw: Any) -> CollectorConfig:
    return CollectorConfig(search_every_s=0, prune_every_s=1e9, journal_gc_every_s=1e9, **kw)


def _bodies(h: Any, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocab = ["".join(rng.choices("abcdefghijklmnop", k=rng.randint(2, 9))) for _ in range(3000)]
    return [
        h.span_open(
            f"{i + 1:032x}",
            f"{i + 1:016x}",
            "step",
            10 + i,
            body=" ".join(rng.choices(vocab, k=90)),
        )
        for i in range(n)
    ]


def _collector(home: Path, **kw: Any) -> Collector:
    c = Collector(home, _config(**kw))
    c.store._bases.dicts.train_after = 40  # type: ignore[attr-defined]  # SQLite's (test only)
    return c


def _trained(c: Collector) -> bool:
    """The store has the dictionary compaction waits for (so there is work it could do)."""
    conn = c.store._conn  # type: ignore[attr-defined]  # SQLite's (test only)
    return bool(conn.execute("SELECT count(*) FROM zstd_dicts").fetchone()[0])


def test_compacts_when_idle_until_done(
    home: Path, write_segment: Any, h: Any, dead_pid: int
) -> None:
    """A round that read records does not compact; idle rounds do, a step each, to the end."""
    write_segment(dead_pid, [h.proc_start(dead_pid), *_bodies(h, 120, seed=1)])
    with _collector(home, compact_every_s=0, batch=50) as c:
        for _ in range(3):  # the second batch trains the dictionary compaction waits for
            busy = c.step()
            assert busy.records > 0 and busy.compacted is None  # busy: no compaction
        assert c.store.totals().bodies_to_compact == 120
        steps = []
        while not steps or not steps[-1].done:
            r = c.step()
            assert r.records == 0 and r.compacted is not None
            steps.append(r.compacted)
        assert sum(s.bodies for s in steps) == 120
        assert all(s.bodies <= 100 for s in steps)  # bounded steps
        assert c.store.totals().bodies_to_compact == 0
        # more records arrive: that round ingests and does not compact; the next idle one does
        write_segment(dead_pid, _bodies(h, 30, seed=2)[10:], seq=1)
        busy = c.step()
        assert busy.records == 20 and busy.compacted is None
        assert c.step().compacted is not None
        assert c.store.totals().bodies_to_compact < 20


def test_none_never_compacts(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """compact_every_s=None (`--compact-every none`): bodies stay as ingest stored them."""
    write_segment(dead_pid, [h.proc_start(dead_pid), *_bodies(h, 100, seed=3)])
    with _collector(home, compact_every_s=None, batch=30) as c:
        assert all(c.step().compacted is None for _ in range(8))
        assert _trained(c) and c.store.totals().bodies_to_compact == 100


def test_waits_for_its_cadence(home: Path, write_segment: Any, h: Any, dead_pid: int) -> None:
    """With a long cadence the first idle rounds do not compact (the first is due after it)."""
    write_segment(dead_pid, [h.proc_start(dead_pid), *_bodies(h, 100, seed=4)])
    with _collector(home, compact_every_s=1e9, batch=30) as c:
        assert all(c.step().compacted is None for _ in range(8))
        assert _trained(c) and c.store.totals().bodies_to_compact == 100
