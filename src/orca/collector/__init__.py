"""The collector: tails a home's journal and ledger into its store, attributes crashes, prunes.

Run it as ``orca collect`` (or let ``Recorder.open(home, collector="auto")``
start one). In Python, :class:`Collector` exposes ``step()`` (one round of
work, returning what it did), ``drain()`` and ``run()``; the module-level
:func:`drain` gets what a program wrote into the store whether or not a
collector already runs for the home (``orca run``).
"""

from orca.collector._collector import (
    TORN_REASON,
    Collector,
    CollectorConfig,
    StepResult,
)
from orca.collector._drain import Progress, drain, journal_sizes, progress
from orca.collector._errors import CollectorError, CollectorLocked
from orca.collector._ledger_source import LEDGER_SOURCE, LedgerSource, ledger_row
from orca.collector._lock import LOCK_FILE, CollectorLock, lock_holder
from orca.collector._reclaim import DEFAULT_JOURNAL_GRACE, DEFAULT_JOURNAL_RETENTION
from orca.collector._status import LedgerStatus, SegmentStatus, Status, collector_status
from orca.collector._tail import JournalSource, SegmentState, Source

__all__ = [
    "DEFAULT_JOURNAL_GRACE",
    "DEFAULT_JOURNAL_RETENTION",
    "LEDGER_SOURCE",
    "LOCK_FILE",
    "TORN_REASON",
    "Collector",
    "CollectorConfig",
    "CollectorError",
    "CollectorLock",
    "CollectorLocked",
    "JournalSource",
    "LedgerSource",
    "LedgerStatus",
    "Progress",
    "SegmentState",
    "SegmentStatus",
    "Source",
    "Status",
    "StepResult",
    "collector_status",
    "drain",
    "journal_sizes",
    "ledger_row",
    "lock_holder",
    "progress",
]
