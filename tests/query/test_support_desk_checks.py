"""The new checks are silent on the support desk example (its defects are other ones)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orca.collector import Collector
from orca.query import run_checks
from orca.store import SQLiteStore, TraceRows
from orca.testing import temp_home

NEW = [
    "tool-loop",
    "truncated-output",
    "context-overflow",
    "rate-limited",
    "empty-response",
    "context-bloat",
    "model-switch",
    "cost-spike",
]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_desk.py"


@pytest.fixture(scope="module")
def desk() -> Iterator[tuple[SQLiteStore, list[TraceRows]]]:
    """The support desk's traces (three turns, one orchestrated run), recorded and collected."""
    with temp_home() as home:
        env = {**os.environ, "ORCA_HOME": str(home)}
        subprocess.run([sys.executable, str(EXAMPLE)], env=env, check=True, capture_output=True)
        with Collector(home) as c:
            c.drain()
        store = SQLiteStore.open(home)
        try:
            rows = [store.get_trace(s.trace_id) for s in store.list_traces(limit=None)]
            yield store, [r for r in rows if r is not None]
        finally:
            store.close()


@pytest.mark.parametrize("name", NEW)
def test_silent_on_support_desk(desk: tuple[SQLiteStore, list[TraceRows]], name: str) -> None:
    """No finding on the healthy turns (nor on the broken one: it has other defects)."""
    store, traces = desk
    assert len(traces) == 4  # three turns and the orchestrated run
    [result] = run_checks(traces, body=store.get_body, only=[name])
    assert result.passed, result
