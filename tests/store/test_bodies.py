"""Growing prompts: stored as references to the previous one, read back whole, pruned safely."""

import random
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from orca.capture import IdGenerator, ListSink, Recorder
from orca.store import RetentionPolicy, SQLiteStore, items_from
from orca.store._ids import key

DAY = 86_400 * 10**9
AGE_5D = RetentionPolicy(max_age=timedelta(days=5), max_total_body_bytes=None)


def _conversation(
    conv: str, turns: int, seed: int, start_ns: int = 0
) -> tuple[list[dict[str, Any]], list[str]]:
    rng = random.Random(seed)
    words = [f"w{rng.randint(0, 5000)}" for _ in range(4000)]
    clock = iter(range(start_ns + 1, start_ns + 10**15, 1000))
    sink = ListSink()
    rec = Recorder(sink, clock=lambda: next(clock), ids=IdGenerator(seed, clock_ms=lambda: 1))
    log = rec.logger("agent")
    prompt = "system: " + " ".join(words[:100])
    prompts = []
    for t in range(turns):
        prompt += f"\nuser {t}: " + " ".join(rng.choices(words, k=30))
        prompts.append(prompt)
        turn = log.span("turn", attrs={"gen_ai.conversation.id": conv})
        turn.child("step", body=prompt).end(body=f"ok {t}")
        turn.end()
    return [dict(r) for r in sink.records], prompts


def _encodings(store: SQLiteStore) -> list[str]:
    conn = sqlite3.connect(store.path)
    try:
        return [r[0] for r in conn.execute("SELECT enc FROM bodies WHERE size > 256 ORDER BY id")]
    finally:
        conn.close()


def test_growing_prompts_are_stored_as_references(home: Path) -> None:
    """Growing prompts are stored as zstd references (chains of 16) and read back exactly."""
    records, prompts = _conversation("c1", 20, seed=1)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "s"))
        encs = _encodings(store)
        assert encs[0] == "zstd" and encs[1:16] == ["zstd-ref"] * 15
        assert encs[17] == "zstd"  # a chain is at most 16 references long
        steps = sorted(store.find_spans(name="step"), key=lambda s: s.start_ns)
        assert [store.get_body(s.request_body or "") for s in steps] == [
            p.encode() for p in prompts
        ]
        totals = store.totals()
        assert totals.body_stored_bytes * 4 < sum(len(p) for p in prompts)


def _steps(store: SQLiteStore) -> list[Any]:
    return sorted(store.find_spans(name="step"), key=lambda s: s.start_ns)


def test_prune_keeps_the_bases_of_kept_bodies(home: Path) -> None:
    """Old turns go; the old prompts newer ones decode from stay until nothing needs them."""
    records, prompts = _conversation("c1", 6, seed=2, start_ns=18 * DAY)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "s"))
        steps = _steps(store)
        conn = sqlite3.connect(store.path)
        for s in steps[:3]:  # the first three turns become old
            conn.execute("UPDATE traces SET start_ns = 0 WHERE trace_id = ?", (key(s.trace_id),))
        conn.commit()
        conn.close()
        result = store.prune(AGE_5D, now_ns=20 * DAY)
        assert result.traces == 3
        assert result.bodies_collected == 3  # the old answers; the old prompts are bases
        assert [store.get_body(s.request_body or "") for s in steps[3:]] == [
            p.encode() for p in prompts[3:]
        ]
        store.prune(AGE_5D, now_ns=40 * DAY)  # the rest goes: nothing needs any body now
        assert store.totals().bodies == 0


def test_evicting_a_base_takes_its_dependants_but_not_pinned(home: Path) -> None:
    """Over the cap every unpinned chain goes whole; a pinned prompt keeps its bases."""
    a, _ = _conversation("a", 4, seed=3)
    b, b_prompts = _conversation("b", 4, seed=4, start_ns=10**9)
    with SQLiteStore.open(home) as store:
        store.apply(items_from(a + b, "s"))
        steps = _steps(store)
        last_b = steps[-1]
        assert store.get_body(last_b.request_body or "") == b_prompts[-1].encode()
        store.pin(last_b.trace_id)
        result = store.prune(RetentionPolicy(max_age=None, max_total_body_bytes=1), now_ns=DAY)
        assert result.bodies_evicted > 0
        assert store.get_body(last_b.request_body or "") == b_prompts[-1].encode()
        assert all(store.get_body(s.request_body or "") is None for s in steps[:4])
