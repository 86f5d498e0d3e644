"""Golden files pin the exact bytes of one record of each kind.

A change to key order, field names or number formatting shows up here first,
because every reader of old journals depends on those bytes. Regenerate with
``ORCA_UPDATE_GOLDEN=1 pytest tests/records`` only for a deliberate contract change
(and bump the version).
"""

import itertools
import os
from pathlib import Path

import pytest

from orca.capture import IdGenerator, ListSink, Recorder
from orca.records import KINDS, dumps, loads

GOLDEN = Path(__file__).parent / "golden"


def _records() -> dict[str, bytes]:
    """One record of each kind, built through the public API with a fixed clock and ids."""
    ticks = itertools.count(1_790_000_000_000_000_000, 1_000_000)
    sink = ListSink()
    rec = Recorder(
        sink, clock=lambda: next(ticks), ids=IdGenerator(seed=7, clock_ms=lambda: 1_790_000_000_000)
    )
    log = rec.logger("billing-agent")
    turn = log.span("turn", attrs={"gen_ai.conversation.id": "c1", "orca.attempt": 1})
    turn.log.info("calling provider", attrs={"attempt": 1, "ratio": 0.5, "retry": False})
    turn.add_link(turn, reason="summoned-by")
    turn.end(attrs={"gen_ai.usage.input_tokens": 812}, body='{"answer": "ok"}')
    by_kind = {r["kind"]: dumps(r) for r in sink.records}  # type: ignore[arg-type]
    proc = {
        "v": 1,
        "kind": "proc",
        "ts": 1_790_000_000_000_000_000,
        "component": "orca.journal",
        "event": "start",
        "pid": 4242,
        "seq": 0,
        "host": "h1",
        "argv": ["agent.py", "--x"],
        "version": "0.1.0",
        "pstart": 123456,
    }
    by_kind["proc"] = dumps(proc)  # type: ignore[arg-type]
    return by_kind


@pytest.mark.parametrize("kind", KINDS)
def test_golden_bytes(kind: str) -> None:
    """The serialised record equals its golden file byte for byte and validates."""
    data = _records()[kind]
    path = GOLDEN / f"{kind}.ndjson"
    if os.environ.get("ORCA_UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert data == path.read_bytes()
    assert loads(path.read_bytes())["kind"] == kind


def test_docs_examples_are_the_golden_records() -> None:
    """Every JSON example in docs/records.md validates and is byte-identical to a golden file."""
    doc = (Path(__file__).parents[2] / "docs" / "records.md").read_text()
    examples = [
        block.strip().encode() + b"\n"
        for block in doc.split("```json")[1:]
        for block in [block.split("```")[0]]
    ]
    golden = {p.read_bytes() for p in GOLDEN.glob("*.ndjson")}
    assert len(examples) == len(KINDS)
    for example in examples:
        loads(example)
        assert example in golden
