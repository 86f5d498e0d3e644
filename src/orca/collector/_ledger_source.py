"""Tailing the ledger into the store's ``ledger`` table, beside the journal.

The collector imports the ledger's public read API (``orca.ledger.read_entries``)
for this: DESIGN's room table lists records, journal and store for the
collector, and the ledger room imports only records and journal, so the edge
collector → ledger makes no cycle. Only whole signed batches are read (an
entry whose batch signature is not on disk yet waits, like a torn journal
line), from the offset committed with the previous batch.

A damaged ledger must never stop the journal: when ``read_entries`` raises
:class:`~orca.ledger.LedgerCorruptError` (or the file shrank, or cannot be
read), the damage is quarantined once (a row naming ``orca verify``) and the
ledger's offset stops advancing; reading is retried only after the file
changes (a restore, say). Journal records keep flowing throughout.

``forget`` erases a payload in place (same length), so no offset moves and
tailing cannot see it: :meth:`LedgerSource.erased_ids` asks the ledger
(``orca.ledger.erased_ids``) which entries below the committed offset are
erased, and the collector nulls their mirrored payloads on a cadence.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from orca.ledger import Entry, LedgerCorruptError, erased_ids, ledger_path, read_entries
from orca.store import Batch, LedgerItem, LedgerRow, Quarantine

LEDGER_SOURCE: Final = "ledger/ledger.ndjson"  # the ledger's source name in offsets and quarantine
PAUSED: Final = "ledger ingestion paused until the file changes"


def ledger_row(e: Entry) -> LedgerRow:
    """The store's row for one ledger entry."""
    return LedgerRow(
        id=e.id,
        ts_ns=e.ts,
        kind=e.kind,
        run=e.run,
        trace_id=e.trace,
        span_id=e.span,
        actor=e.actor,
        prev=e.prev,
        hash=e.hash,
        payload_hash=e.payload_hash,
        args=e.args,
        result=e.result,
        meta=e.meta,
        erased=e.erased,
        signature=e.signature,
        key_id=e.key,
    )


@dataclass
class LedgerSource:
    """``<home>/ledger/ledger.ndjson`` as one collector source named :data:`LEDGER_SOURCE`.

    ``reported``: offsets whose damage is already quarantined (so a restarted
    collector does not record it again). ``share``: the fraction of a batch the
    ledger may fill, so a long ledger backlog never starves the journal.
    """

    home: Path
    reported: set[int] = field(default_factory=set)
    share: float = 0.5
    drained: bool = True
    paused: str | None = None  # why reading stopped (damage), None while healthy
    _stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the file when it paused

    @property
    def path(self) -> Path:
        return ledger_path(self.home)

    def read(self, offsets: dict[str, int], batch: Batch, limit: int, deadline: float) -> int:
        """Add up to ``limit * share`` signed entries from the committed offset; how many."""
        committed = offsets.get(LEDGER_SOURCE, 0)
        path = self.path
        try:
            st = path.stat()
        except FileNotFoundError:
            self.drained = True
            return 0
        stamp = (st.st_size, st.st_mtime_ns)
        if st.st_size == committed or self._stamp == stamp:
            self.drained = True
            return 0
        if limit <= 0 or time.monotonic() >= deadline:
            self.drained = False
            return 0
        if st.st_size < committed:
            self._pause(
                batch,
                committed,
                stamp,
                f"{path} shrank from {committed} to {st.st_size} bytes after ingest; "
                "run `orca verify`",
                b"",
            )
            return 0
        cap = max(1, int(limit * self.share))
        damage: Exception | None = None
        try:
            got = read_entries(path, committed, max_entries=cap)
            entries, offset = got.entries, got.next_offset
        except LedgerCorruptError as exc:
            entries, offset, damage = self._good_prefix(path, committed, cap, exc)
        except OSError as exc:
            entries, offset, damage = [], committed, exc
        source = LEDGER_SOURCE
        batch.ledger.extend(LedgerItem(ledger_row(e), source, e.offset) for e in entries)
        if offset != committed:
            batch.offsets[source] = offset
        if damage is not None:
            self._pause(batch, offset, stamp, str(damage), self._preview(path, offset))
        else:
            self.paused, self._stamp = None, None
            self.drained = len(entries) < cap
        return len(entries)

    @staticmethod
    def _good_prefix(
        path: Path, offset: int, cap: int, exc: LedgerCorruptError
    ) -> tuple[list[Entry], int, LedgerCorruptError]:
        """The whole signed batches before the damage, one at a time, and where it starts."""
        entries: list[Entry] = []
        while len(entries) < cap:
            try:
                got = read_entries(path, offset, max_entries=1)
            except LedgerCorruptError as again:
                return entries, offset, again
            if got.next_offset == offset:
                break  # the damage moved away under us (a restore): read normally next time
            entries.extend(got.entries)
            offset = got.next_offset
        return entries, offset, exc

    def _pause(
        self, batch: Batch, offset: int, stamp: tuple[int, int], reason: str, preview: bytes
    ) -> None:
        """Stop reading at ``offset`` until the file changes; quarantine the damage once."""
        self._stamp, self.drained = stamp, True
        self.paused = f"{reason}; {PAUSED}"
        if offset in self.reported:
            return
        self.reported.add(offset)
        length = max(0, stamp[0] - offset)
        batch.quarantined.append(Quarantine(LEDGER_SOURCE, offset, length, self.paused, preview))
        batch.offsets.setdefault(LEDGER_SOURCE, offset)

    @staticmethod
    def _preview(path: Path, offset: int) -> bytes:
        try:
            with path.open("rb") as f:
                f.seek(offset)
                return f.read(200)
        except OSError:
            return b""

    def erased_ids(self, upto: int) -> list[int]:
        """Ids of entries erased by ``forget`` in the first ``upto`` bytes."""
        return erased_ids(self.path, upto)
