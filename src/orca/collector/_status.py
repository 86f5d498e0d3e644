"""What ``orca status`` reports: the collector, each segment, the ledger mirror, the store.

Read-only: it never writes the store (a running collector owns that) and
works before any collector ran (the store part is then empty).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from orca.collector._ledger_source import LEDGER_SOURCE
from orca.collector._lock import lock_holder, lock_status
from orca.journal import list_segments, process_alive
from orca.store import (
    ProcessRow,
    QuarantineRow,
    StoreTotals,
    locate_store,
    open_location,
    store_exists,
)

WriterState = Literal["alive", "exited", "crashed"]


@dataclass(frozen=True, slots=True)
class SegmentStatus:
    """One journal segment: who writes it, whether they live, how far behind the store is."""

    segment: str
    pid: int
    writer: str
    state: WriterState  # crashed: gone without an exit record (attributed or not yet)
    bytes: int
    ingested_bytes: int
    lag_bytes: int
    records: int
    quarantined: int
    # Fully stored and its writer gone: the collector deletes it after the grace
    # (clean exit, default 10 minutes) or the crash retention (default a day).
    pending_deletion: bool = False
    # The store has its writer's exit record, or a collector declared it crashed.
    settled: bool = False


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """The ledger file and how much of it the store mirrors."""

    path: str
    bytes: int
    ingested_bytes: int
    lag_bytes: int  # includes a batch still waiting for its signature
    entries: int  # entries mirrored into the store
    quarantined: int  # damage recorded (ingestion paused there; run ``orca verify``)


@dataclass(frozen=True, slots=True)
class Status:
    """Everything ``orca status`` prints."""

    home: str
    collector_pid: int | None  # None: no collector holds the lock (0: held, pid unknown)
    segments: list[SegmentStatus]
    store_exists: bool
    store_url: str  # which store (password masked): sqlite:///… or postgresql://…
    totals: StoreTotals | None
    writer_drops: int  # records writers reported dropping (full disk, oversize, ...)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    ledger: LedgerStatus | None = None  # None: the home has no ledger
    collector_note: str | None = None  # what a running collector says (paused: disk full …)

    @property
    def lag_bytes(self) -> int:
        return sum(s.lag_bytes for s in self.segments)

    @property
    def journal_bytes(self) -> int:
        return sum(s.bytes for s in self.segments)

    @property
    def journal_pending_bytes(self) -> int:
        """Journal bytes already in the store that the collector will delete."""
        return sum(s.bytes for s in self.segments if s.pending_deletion)


def _state(proc: ProcessRow | None, pid: int) -> WriterState:
    if proc is not None and proc.exited_ns is not None:
        return "exited"
    if proc is not None and proc.crashed_ns is not None:
        return "crashed"
    # Gone without an exit record is "crashed" whether or not a collector has attributed
    # it yet: one word for one fact, in `orca status` and `orca journal ls` alike.
    return "alive" if process_alive(pid, proc.pstart if proc else None) else "crashed"


def collector_status(
    home: Path, *, quarantine_limit: int | None = 0, totals: bool = True
) -> Status:
    """The status of ``home``; ``quarantine_limit`` rows of quarantine (None: all).

    ``totals=False`` skips totalling the store (the slow part), for callers
    that poll the segments (``drain``).
    """
    where = locate_store(home)
    exists = store_exists(where)
    offsets: dict[str, tuple[int, int, int]] = {}
    procs: dict[str, ProcessRow] = {}
    sums = None
    quarantined: list[QuarantineRow] = []
    if exists:
        with open_location(where) as store:
            offsets = {s.name: (s.offset, s.records, s.quarantined) for s in store.sources()}
            procs = {p.writer: p for p in store.processes()}
            sums = store.totals() if totals else None
            if quarantine_limit != 0:
                quarantined = store.quarantine(quarantine_limit)
    segments = []
    for name, path in list_segments(home / "journal"):
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            continue
        offset, records, bad = offsets.get(path.name, (0, 0, 0))
        proc = procs.get(name.writer)
        state = _state(proc, name.pid)
        segments.append(
            SegmentStatus(
                segment=path.name,
                pid=name.pid,
                writer=name.writer,
                state=state,
                bytes=size,
                ingested_bytes=offset,
                lag_bytes=max(size - offset, 0),
                records=records,
                quarantined=bad,
                pending_deletion=offset >= size and state in ("exited", "crashed"),
                settled=proc is not None
                and (proc.exited_ns is not None or proc.crashed_ns is not None),
            )
        )
    ledger = None
    lpath = home / LEDGER_SOURCE
    if lpath.exists():
        size = lpath.stat().st_size
        offset, records, bad = offsets.get(LEDGER_SOURCE, (0, 0, 0))
        ledger = LedgerStatus(str(lpath), size, offset, max(size - offset, 0), records, bad)
    holder = lock_holder(home)
    return Status(
        home=str(home),
        collector_pid=holder,
        collector_note=lock_status(home) if holder is not None else None,
        segments=segments,
        store_exists=exists,
        store_url=where.shown,
        totals=sums,
        writer_drops=sum(p.dropped for p in procs.values()),
        quarantine=quarantined,
        ledger=ledger,
    )
