"""The write side's unit of work: records with where they came from.

A batch is applied in one transaction together with the new offsets of its
sources. Every record carries its source and byte offset, which is what makes
re-applying a batch harmless: records below a source's committed offset are
skipped (at-least-once reading, exactly-once effect).
"""

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from orca.store._rows import LedgerRow


class Item(NamedTuple):
    """One valid record read from ``source`` at byte ``offset`` (a tuple: made per record)."""

    record: dict[str, Any]
    source: str
    offset: int


class LedgerItem(NamedTuple):
    """One signed ledger entry read from ``source`` at byte ``offset`` (the ledger mirror).

    Entries are keyed by their ledger id, so re-applying one is a no-op even
    without the offset check journal records rely on.
    """

    row: LedgerRow
    source: str
    offset: int


@dataclass(frozen=True, slots=True)
class Quarantine:
    """One line that is not a valid record: kept with its location and the reason."""

    source: str
    offset: int
    length: int
    reason: str
    preview: bytes


@dataclass(slots=True)
class Batch:
    """Records, quarantined lines and each source's new offset, applied together.

    ``offsets`` must name every source that ``items`` and ``quarantined`` use;
    its value is the first byte not yet consumed after this batch.
    """

    items: list[Item] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    # Sources whose file shrank under the collector: their offset moves back to this
    # value (every other offset only moves forward).
    resets: dict[str, int] = field(default_factory=dict)
    # Ledger entries to mirror (their sources are named in ``offsets`` too).
    ledger: list[LedgerItem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items) + len(self.quarantined) + len(self.ledger)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one :meth:`SQLiteStore.apply` did."""

    applied: int  # records written
    skipped: int  # records at or below a committed offset (already applied)
    quarantined: int
    batch: int  # the batch number (search catch-up uses it)
    ledger: int = 0  # ledger entries newly mirrored
