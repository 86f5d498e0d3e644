"""Writes ``store_v4.sqlite`` and ``store_v4.json``: a store written by schema 4's code.

Run once with the ORCA of schema version 4 on the path (``git archive`` of a
commit before schema 5, then ``PYTHONPATH=<it>/src python make_v4_store.py``);
``test_schema5.py`` opens a copy with today's code (migrating it) and expects
the same traces, bodies and search hits as the JSON recorded here.
``store_v5.sqlite`` came the same way from a commit of schema 5
(``python make_v4_store.py <dir> store_v5``); its JSON is byte for byte
``store_v4.json`` (what a reader sees does not depend on the schema), so only
the file is kept.
"""

import dataclasses
import random
import sys
from pathlib import Path
from typing import Any

import orjson

from orca.store import SQLiteStore, items_from

T0 = 1_750_000_000_000_000_000
WORDS = [
    "refund",
    "order",
    "invoice",
    "parcel",
    "courier",
    "ticket",
    "escalate",
    "policy",
    "storm",
    "umbrella",
]
QUERIES = ["refund", "parcel courier", "gpt-4o", "quokka", "lookup_order"]


def records(seed: int = 4) -> list[dict[str, Any]]:
    """Three conversations of growing prompts, fresh answers, logs, one unfinished span."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    ts = T0
    for conv in range(3):
        prompt = "system: " + " ".join(rng.choices(WORDS, k=80))
        for turn in range(5):
            ts += 10**9
            trace = f"{ts // 10**6:012x}{rng.getrandbits(80):020x}"
            root, step, tool = (f"{rng.getrandbits(64):016x}" for _ in range(3))
            prompt += f"\nuser {turn}: " + " ".join(rng.choices(WORDS, k=40))
            base = {"v": 1, "component": "agent", "trace": trace}
            attrs = {"gen_ai.conversation.id": f"conv-{conv}"}
            out += [
                {
                    **base,
                    "kind": "span-open",
                    "ts": ts,
                    "span": root,
                    "name": "turn",
                    "attrs": attrs,
                },
                {
                    **base,
                    "kind": "span-open",
                    "ts": ts + 1,
                    "span": step,
                    "parent": root,
                    "name": "step",
                    "attrs": {"gen_ai.request.model": "gpt-4o"},
                    "body": prompt,
                },
                {
                    **base,
                    "kind": "log",
                    "ts": ts + 2,
                    "level": "info",
                    "span": step,
                    "msg": f"asked quokka {turn}",
                },
                {
                    **base,
                    "kind": "span-close",
                    "ts": ts + 3,
                    "span": step,
                    "status": "ok",
                    "attrs": {"gen_ai.usage.input_tokens": 10 + turn},
                    "body": " ".join(rng.choices(WORDS, k=60)),
                },
                {
                    **base,
                    "kind": "span-open",
                    "ts": ts + 4,
                    "span": tool,
                    "parent": root,
                    "name": "tool-call",
                    "attrs": {"gen_ai.tool.name": "lookup_order"},
                    "body": "short",
                },
            ]
            if not (conv == 2 and turn == 4):  # the last tool call never closes
                out.append(
                    {**base, "kind": "span-close", "ts": ts + 5, "span": tool, "status": "error"}
                )
            out.append({**base, "kind": "span-close", "ts": ts + 6, "span": root, "status": "ok"})
    return out


def expected(store: SQLiteStore) -> dict[str, Any]:
    """What a reader sees: every trace, every body by hash, the hits of ``QUERIES``."""
    traces = store.list_traces(limit=None)
    out: dict[str, Any] = {"traces": [], "bodies": {}, "search": {}}
    for summary in traces:
        rows = store.get_trace(summary.trace_id)
        assert rows is not None
        out["traces"].append(dataclasses.asdict(rows))
        for span in rows.spans:
            for sha in (span.request_body, span.response_body):
                if sha:
                    out["bodies"][sha] = (store.get_body(sha) or b"").decode()
    for q in QUERIES:
        out["search"][q] = [dataclasses.asdict(h) for h in store.search(q)]
    return out


def main(where: Path, stem: str = "store_v4") -> None:
    with SQLiteStore.open(where / f"{stem}.sqlite") as store:
        store.apply(items_from(records(), "seg"))
        store.catch_up_search()
        store.pin(records()[0]["trace"])
        (where / f"{stem}.json").write_bytes(
            orjson.dumps(expected(store), option=orjson.OPT_INDENT_2)
        )
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent, *sys.argv[2:3])
