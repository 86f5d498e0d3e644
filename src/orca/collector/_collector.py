"""The collector: journal segments and the ledger in, one store transaction per batch out.

:meth:`Collector.step` does one round of work and returns what it did; the
loop (:meth:`Collector.run`) only repeats it and sleeps when idle, so tests
drive ``step()`` directly and never wait on a timer. One round:

1. read signed ledger entries (up to half a batch, see ``_ledger_source``) and
   whole lines from every segment, each from its committed offset, until the
   batch is full (``batch`` records) or ``max_batch_ms`` passed;
2. apply them with the new offsets in one transaction (quarantined lines too);
3. look at writers: one that died without an exit record (pid gone, or the
   same pid now naming another process, or a stale heartbeat) gets its torn
   tail quarantined and a crash span in each trace it left open;
4. on cadences: catch up the search index, prune, delete journal segments that
   are stored and due (``_reclaim``: 10 minutes after a clean exit, a day after
   a crash), null the mirrored payloads of ledger entries erased by ``forget``;
5. when idle (nothing read this round, the search index caught up): one bounded
   compaction step (bodies recompressed hard, search index merged; see the
   store's ``compact``), every round until it is done, then again after
   ``compact_every_s``.
"""

import errno
import signal
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Final

from orca.collector._ledger_source import LEDGER_SOURCE, LedgerSource
from orca.collector._lock import CollectorLock
from orca.collector._reclaim import (
    DEFAULT_JOURNAL_GRACE,
    DEFAULT_JOURNAL_RETENTION,
    Settled,
    delete_due_segments,
)
from orca.collector._tail import JournalSource, SegmentState, Source
from orca.journal import hostname, process_alive
from orca.store import (
    DEFAULT_RETENTION,
    Batch,
    CompactResult,
    ProcessRow,
    PruneResult,
    Quarantine,
    RetentionPolicy,
    SQLiteStore,
    TraceStore,
    open_store,
)

PIPELINE_BATCHES: Final = 20  # batches per pipelined round before writer checks run
SEARCH_SLICE: Final = 20_000  # rows per table the search index catches up per round
PAUSE_FIRST_S: Final = 0.5  # disk full: first retry after this, doubling up to PAUSE_MAX_S
PAUSE_MAX_S: Final = 30.0
# The quarantine reason of a segment's unfinished last line once its writer is gone.
TORN_REASON: Final = "torn last line (its writer died before finishing it)"


def disk_full(exc: BaseException) -> str | None:
    """A one-line reason when ``exc`` means the disk (or the database) is full, else None."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"disk full ({cause.strerror})"
        if isinstance(cause, sqlite3.OperationalError) and "full" in str(cause):
            return f"disk full (sqlite: {cause})"
        if "database or disk is full" in str(cause):
            return "disk full (sqlite: database or disk is full)"
        cause = cause.__cause__ or cause.__context__
    return None


@dataclass(frozen=True)
class CollectorConfig:
    """How the collector batches and how often it does its chores."""

    batch: int = 5000  # records per transaction, at most
    max_batch_ms: int = 250  # stop reading and commit after this long
    interval_ms: int = 100  # sleep between rounds when there was nothing to read
    stale_heartbeat_s: float | None = 60.0  # a writer that sent heartbeats and then stopped
    journal_grace: timedelta | None = DEFAULT_JOURNAL_GRACE  # stored segments, clean exit
    journal_retention: timedelta | None = DEFAULT_JOURNAL_RETENTION  # stored, writer crashed
    retention: RetentionPolicy | None = DEFAULT_RETENTION
    prune_every_s: float = 3600.0
    search_every_s: float = 30.0
    journal_gc_every_s: float = 60.0
    ledger_erase_every_s: float = 60.0  # look for entries ``forget`` erased since ingest
    compact_every_s: float | None = 60.0  # start compacting when idle (None: never)
    compact_step_ms: float = 20.0  # an idle round's compaction step takes no body after this


@dataclass
class StepResult:
    """What one :meth:`Collector.step` did."""

    records: int = 0
    quarantined: int = 0
    skipped: int = 0
    drained: bool = True  # nothing readable was left behind
    crashed: list[str] = field(default_factory=list)  # writers declared dead
    crash_spans: int = 0
    torn: int = 0  # torn tails of dead writers quarantined
    deleted_segments: list[str] = field(default_factory=list)
    pruned: PruneResult | None = None
    indexed: int = 0  # rows added to the search index
    ledger: int = 0  # ledger entries mirrored into the store
    erased: int = 0  # mirrored ledger payloads nulled after a ``forget``
    compacted: CompactResult | None = None  # the compaction step run (idle rounds only)

    @property
    def busy(self) -> bool:
        return bool(
            self.records or self.quarantined or self.crash_spans or self.torn or self.ledger
        )


class Collector:
    """Tails one home's journal into its store. Holds the home's lock while open."""

    def __init__(
        self,
        home: Path,
        config: CollectorConfig | None = None,
        *,
        lock: bool = True,
    ) -> None:
        self.home = home
        self.config = config or CollectorConfig()
        self._lock = CollectorLock(home) if lock else None
        try:
            self.store: TraceStore = open_store(home, create=True)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self.journal = JournalSource(home / "journal")
        self.ledger = LedgerSource(
            home,
            reported={q.offset for q in self.store.quarantine() if q.source == LEDGER_SOURCE},
        )
        # The ledger first: it may fill at most half a batch, so neither starves the other.
        self.sources: list[Source] = [self.ledger, self.journal]
        self._offsets = self.store.offsets()
        self._settled: set[str] = set()  # writers that exited or were declared crashed
        self._crashed = {
            p.writer for p in self.store.processes() if p.crashed_ns and not p.exited_ns
        }
        now = time.monotonic()
        # First prune a minute in (a short-lived auto-started collector still prunes),
        # then every prune_every_s; the journal is looked at on the first round.
        self._last = {
            "prune": now - self.config.prune_every_s + 60,
            "search": now,
            "gc": 0.0,
            "erase": 0.0,
            "compact": now,
        }
        self._stop = False
        self.paused: str | None = None  # why the loop is waiting (disk full), if it is
        self._search_behind = False
        self._compact_behind = False  # a compaction started and not finished
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="orca-collector-read")
        self._host = hostname()

    # -- one round -------------------------------------------------------------

    def step(self, *, now_ns: int | None = None) -> StepResult:
        """Do one round of work (see the module docstring) and say what it did."""
        out = StepResult()
        self._apply(self._read(self._offsets), out)
        return self._finish(out, now_ns)

    def _read(self, offsets: dict[str, int]) -> Batch:
        batch = Batch()
        deadline = time.monotonic() + self.config.max_batch_ms / 1000
        for source in self.sources:
            taken = len(batch.items) + len(batch.ledger)
            source.read(offsets, batch, self.config.batch - taken, deadline)
        return batch

    def _apply(self, batch: Batch, out: StepResult) -> None:
        if batch.offsets:
            applied = self.store.apply(batch)
            out.records += applied.applied
            out.skipped += applied.skipped
            out.quarantined += applied.quarantined
            out.ledger += applied.ledger
            self._offsets.update(batch.offsets)
            self._offsets.update(batch.resets)
            if self._crashed and applied.applied:
                self._retract_if_alive(batch)

    def _retract_if_alive(self, batch: Batch) -> None:
        """A writer declared crashed wrote again: withdraw the verdict and its crash spans."""
        for name in batch.offsets:
            seg = self.journal.segments.get(name)
            writer = seg.name.writer if seg is not None else None
            if writer in self._crashed:
                assert writer is not None
                self.store.retract_crash(writer)
                self._crashed.discard(writer)
                self._settled.discard(writer)

    def _finish(self, out: StepResult, now_ns: int | None) -> StepResult:
        """Writer checks and chores: run only when no read is in flight."""
        out.drained = self.ledger.drained and all(s.drained for s in self.journal.segments.values())
        self._check_writers(out, time.time_ns() if now_ns is None else now_ns)
        self._chores(out, time.time_ns() if now_ns is None else now_ns)
        return out

    def _pipelined_step(self) -> StepResult:
        """Like :meth:`step`, but while one batch is written the next is read in a thread.

        SQLite releases the GIL while it works, so parsing the next batch
        overlaps writing this one (measured: ~1.5x ingest on 2 cores). At most
        ``PIPELINE_BATCHES`` batches per round, so writer checks and chores
        still run while a busy writer keeps the journal full.
        """
        out = StepResult()
        batch = self._read(self._offsets)
        rounds = 0
        while batch.offsets:
            if rounds >= PIPELINE_BATCHES or self._stop:
                self._apply(batch, out)
                break
            ahead = {**self._offsets, **batch.offsets, **batch.resets}
            future = self._pool.submit(self._read, ahead)
            try:
                self._apply(batch, out)
            finally:
                batch = future.result()
            rounds += 1
        return self._finish(out, None)

    def _check_writers(self, out: StepResult, now_ns: int) -> None:
        by_writer: dict[str, list[SegmentState]] = {}
        for seg in self.journal.segments.values():
            by_writer.setdefault(seg.name.writer, []).append(seg)
        unsettled = [w for w in by_writer if w not in self._settled]
        if not unsettled:
            return
        procs = {p.writer: p for p in self.store.processes()}
        for writer in unsettled:
            segs = by_writer[writer]
            proc = procs.get(writer)
            if proc is not None and (proc.exited_ns or proc.crashed_ns):
                dead, crashed = True, False
            else:
                dead = crashed = not self._alive(segs[0], proc, now_ns)
            if not dead or not all(s.drained for s in segs):
                continue
            out.torn += self._quarantine_torn(segs)
            if crashed:
                self._crashed.add(writer)
                spans = self.store.attribute_crash(writer, detected_ns=now_ns)
                out.crashed.append(writer)
                out.crash_spans += len(spans)
            self._settled.add(writer)

    def _alive(self, seg: SegmentState, proc: ProcessRow | None, now_ns: int) -> bool:
        """Is the writer alive? The pid (with its start time) decides wherever it can be checked.

        A stopped (SIGSTOP) or very busy process sends no heartbeats but is
        not dead: on this host a pid + start-time check saying "alive" wins.
        Heartbeats decide only when the pid cannot be checked: another
        host's writer, or a pid alive here whose start time is unknown.
        """
        stale_s = self.config.stale_heartbeat_s
        stale = (
            proc is not None
            and proc.heartbeat_ns is not None
            and stale_s is not None
            and now_ns - max(proc.heartbeat_ns, proc.last_ns or 0) > stale_s * 1e9
        )
        if proc is not None and proc.host and proc.host != self._host:
            return not stale  # another machine's pid means nothing here
        pstart = proc.pstart if proc else None
        if not process_alive(seg.name.pid, pstart):
            return False
        return pstart is not None or not stale

    def _quarantine_torn(self, segs: list[SegmentState]) -> int:
        batch = Batch()
        for seg in segs:
            if seg.pending > 0:
                with seg.path.open("rb") as f:
                    f.seek(seg.offset)
                    preview = f.read(200)
                batch.quarantined.append(
                    Quarantine(seg.path.name, seg.offset, seg.pending, TORN_REASON, preview)
                )
                batch.offsets[seg.path.name] = seg.offset + seg.pending
        if not batch.offsets:
            return 0
        result = self.store.apply(batch)
        self._offsets.update(batch.offsets)
        for seg in segs:
            seg.offset, seg.pending = seg.offset + seg.pending, 0
        return result.quarantined

    def _due(self, chore: str, every_s: float) -> bool:
        now = time.monotonic()
        if now - self._last[chore] >= every_s:
            self._last[chore] = now
            return True
        return False

    def _chores(self, out: StepResult, now_ns: int) -> None:
        cfg = self.config
        if self._search_behind or self._due("search", cfg.search_every_s):
            # Bounded slices, one per round, so indexing never stalls ingest for long.
            out.indexed = self.store.catch_up_search(SEARCH_SLICE)
            self._search_behind = out.indexed >= SEARCH_SLICE
        if cfg.retention is not None and self._due("prune", cfg.prune_every_s):
            out.pruned = self.store.prune(cfg.retention, now_ns=now_ns)
        keeps = cfg.journal_grace is not None or cfg.journal_retention is not None
        if keeps and self._due("gc", cfg.journal_gc_every_s):
            out.deleted_segments = self.delete_old_segments(now_ns)
        if self._due("erase", cfg.ledger_erase_every_s):
            out.erased = self.sync_erasures()
        idle = out.drained and not out.busy and not self._search_behind
        if idle and isinstance(self.store, SQLiteStore) and self._compact_due():
            out.compacted = self.store.compact(steps=1, step_ms=self.config.compact_step_ms)
            self._compact_behind = not out.compacted.done

    def _compact_due(self) -> bool:
        every = self.config.compact_every_s
        return every is not None and (self._compact_behind or self._due("compact", every))

    def sync_erasures(self) -> int:
        """Null mirrored payloads the ledger has erased since they were ingested; how many."""
        ids = self.ledger.erased_ids(self._offsets.get(LEDGER_SOURCE, 0))
        return self.store.erase_ledger_payloads(ids) if ids else 0

    def delete_old_segments(self, now_ns: int) -> list[str]:
        """Remove fully stored segments of settled writers once they are due (see _reclaim)."""
        cfg = self.config
        return delete_due_segments(
            self.store,
            self.journal.segments,
            Settled(self._offsets, self._settled),
            self.home / "journal",
            grace=cfg.journal_grace,
            crashed=cfg.journal_retention,
            now_ns=now_ns,
        )

    # -- the loop -----------------------------------------------------------------

    def drain(self) -> StepResult:
        """Step until everything present is ingested (``orca collect --once``); totals."""
        total = StepResult()
        while True:
            r = self._pipelined_step()
            total.records += r.records
            total.quarantined += r.quarantined
            total.skipped += r.skipped
            total.crashed += r.crashed
            total.crash_spans += r.crash_spans
            total.torn += r.torn
            total.deleted_segments += r.deleted_segments
            total.indexed += r.indexed
            total.ledger += r.ledger
            total.erased += r.erased
            if r.drained and not r.busy:
                return total

    def stop(self) -> None:
        """Ask :meth:`run` to finish the current batch and return."""
        self._stop = True

    def run(self, *, idle_exit_s: float | None = None) -> None:
        """Step until stopped (SIGTERM, SIGINT or :meth:`stop`); sleep when idle.

        ``idle_exit_s``: return once no writer has been alive and nothing was read
        for that long (how an auto-started collector goes away by itself).
        """

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._stop = True

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        idle_since = time.monotonic()
        backoff = 0.0
        try:
            while not self._stop:
                try:
                    r = self._pipelined_step()
                except Exception as exc:
                    reason = disk_full(exc)
                    if reason is None:
                        raise
                    backoff = min(max(backoff * 2, PAUSE_FIRST_S), PAUSE_MAX_S)
                    self._pause(reason, backoff)
                    continue
                if backoff:
                    backoff = 0.0
                    self._resume()
                live = any(w not in self._settled for w in self._writers())
                if r.busy or live:
                    idle_since = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                    return
                if r.drained and not r.busy and not self._stop:
                    time.sleep(self.config.interval_ms / 1000)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _pause(self, reason: str, wait_s: float) -> None:
        """Disk full: say so (stderr once, ``orca status``), wait, and let the loop retry."""
        text = f"paused: {reason}; retrying every {wait_s:g}s (free space, or SIGTERM to stop)"
        if self.paused is None:
            sys.stderr.write(f"orca collect: {text}\n")
        self.paused = reason
        if self._lock is not None:
            self._lock.set_status(text)
        deadline = time.monotonic() + wait_s
        while not self._stop and time.monotonic() < deadline:
            time.sleep(min(0.1, wait_s))

    def _resume(self) -> None:
        sys.stderr.write("orca collect: resumed\n")
        self.paused = None
        if self._lock is not None:
            self._lock.set_status(None)

    def _writers(self) -> set[str]:
        return {seg.name.writer for seg in self.journal.segments.values()}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.store.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Collector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
