"""The search index catches up lazily, in bounded slices, and sees spans closed later."""

from pathlib import Path

from orca.store import Batch, Item, SQLiteStore
from orca.testing import capture_records


def test_catch_up_in_slices_and_later_closes(home: Path) -> None:
    """Search catches up in slices without repeats and re-indexes a span closed later."""
    with capture_records() as (rec, records):
        log = rec.logger("svc")
        spans = [log.span("turn", attrs={"topic": f"alpha{i}"}) for i in range(30)]
        for i, span in enumerate(spans):
            span.log.info(f"note beta{i}")
    opened = [dict(r) for r in records]
    with SQLiteStore.open(home) as store:
        for i in range(0, len(opened), 10):  # three batches of opens and logs
            store.apply(
                Batch(
                    [Item(r, "s", i + j) for j, r in enumerate(opened[i : i + 10])],
                    offsets={"s": i + 10},
                )
            )
        indexed = [store.catch_up_search(limit=7) for _ in range(12)]
        assert indexed[-1] == 0 and sum(indexed) == 30 + 30  # 30 spans + 30 logs, no repeats
        assert len(store.search("beta7", where="logs")) == 1
        # a span closed after it was indexed is re-indexed with its close attributes
        first = opened[0]
        close = {
            "v": 1,
            "kind": "span-close",
            "ts": first["ts"] + 1,
            "component": "svc",
            "trace": first["trace"],
            "span": first["span"],
            "status": "ok",
            "attrs": {"verdict": "gamma"},
        }
        store.apply(Batch([Item(close, "s2", 0)], offsets={"s2": 1}))
        assert store.search("gamma", where="attrs") == []  # readers never index
        store.catch_up_search()  # the collector's chore
        [hit] = store.search("gamma", where="attrs")
        assert hit.span_id == first["span"]
        assert len(store.search("alpha0", where="attrs")) == 1
