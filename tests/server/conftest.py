"""A real home for the server tests: traces recorded, a ledger appended, the collector drained."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import orca
from orca.collector import Collector
from orca.ledger import Ledger
from orca.server import HomeGauges, ServerConfig, create_app
from orca.testing import temp_home


def record_home(home: Path) -> None:
    """Two turns (bodies that differ in key order, a tool call, an error), ledger entries."""
    rec = orca.Recorder.open(home, heartbeat_s=None)
    log = rec.logger("support")
    for n, body in enumerate(
        ({"model": "m", "tools": [{"a": 1, "b": 2}]}, {"tools": [{"b": 2, "a": 1}], "model": "m"})
    ):
        turn = log.span("turn", attrs={"gen_ai.conversation.id": f"c{n}"})
        step = turn.child(
            "step", attrs={"gen_ai.request.model": "m"}, body=json.dumps(body).encode()
        )
        step.log.info("calling provider refund", attrs={"attempt": 1})
        step.end(attrs={"gen_ai.usage.input_tokens": 100 + n, "gen_ai.usage.output_tokens": 7})
        with turn.child("tool-call", attrs={"gen_ai.tool.name": "lookup"}) as tool:
            tool.log.info("looked up")
        if n == 1:
            turn.child("step").end(error=RuntimeError("provider timed out"))
        turn.end()
    rec.close()
    with Ledger.open(home) as led:
        for i in range(3):
            led.append({"kind": "envelope.accepted", "actor": "planner", "run": f"r{i % 2}"})
    with Collector(home) as collector:
        collector.drain()
        collector.store.catch_up_search()  # as `orca collect --once` does: search only reads


def fixed_gauges(collector_pid: int | None = 4321) -> HomeGauges:
    return HomeGauges(
        collector_pid=collector_pid,
        lag_bytes=12,
        lag_seconds=0.5,
        quarantined=1,
        writer_drops=0,
        store_bytes=4096,
        traces=2,
        spans=9,
    )


@pytest.fixture(scope="module")
def recorded_home() -> Iterator[Path]:
    """One recorded home shared by a module's read-only tests."""
    with temp_home() as path:
        record_home(path)
        yield path


@pytest.fixture
def client(recorded_home: Path) -> Iterator[TestClient]:
    """The app over the recorded home, in process."""
    app = create_app(ServerConfig(recorded_home, max_body_bytes=1024, gauges=fixed_gauges))
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c
