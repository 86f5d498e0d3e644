"""Fixtures: an orchestrator over a temporary home, driven by a virtual clock."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orca.ledger import Entry, read_entries
from orca.orchestrator import Orchestrator, VirtualClock

SEED = 1234


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock at its fixed start."""
    return VirtualClock()


@pytest.fixture
def orch(home: Path, clock: VirtualClock) -> Iterator[Orchestrator]:
    """An open orchestrator on a fresh home, seeded, with the virtual clock."""
    with Orchestrator.open(home, clock=clock, seed=SEED) as o:
        yield o


def entries(home: Path) -> list[Entry]:
    """Every entry of the home's ledger, read back from disk."""
    return read_entries(home).entries


def kinds(home: Path, run: str | None = None) -> list[str]:
    """The kinds of the ledger's entries (of one run), in order."""
    return [e.kind for e in entries(home) if run is None or e.run == run]


def task_env(run: str, id: str = "e-1", recipient: str = "billing", **kw: Any) -> dict[str, Any]:
    """A plain agent_task envelope from triage."""
    return {
        "id": id,
        "run": run,
        "kind": "agent_task",
        "sender": "triage",
        "recipient": recipient,
        "payload": {"order": "A-17"},
        **kw,
    }
