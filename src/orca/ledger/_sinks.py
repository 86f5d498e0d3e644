"""Sinks: observers told about each entry after it is durable, isolated from the append.

Each registered sink gets its own thread and queue. The committer only hands
a finished batch to each queue (never waits on a sink), so a sink that raises
or sleeps cannot delay or change ``append`` for anyone. Each sink keeps a
cursor (the last entry id it was given) persisted under
``<home>/ledger/sinks/<name>.cursor``; a new or restarted sink, or one whose
queue overflowed, reads what it missed from the ledger file before it goes
back to its queue. Delivery is therefore at least once and in id order:
sinks should be idempotent (working memory is).
"""

import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import orjson

from orca.ledger._errors import LedgerError
from orca.ledger._format import Entry
from orca.ledger._read import read_entries

MAX_QUEUE = 10_000
CATCH_UP_CHUNK = 1_000
PERSIST_EVERY = 1_000
RETRY_S = 0.05


@runtime_checkable
class LedgerSink(Protocol):
    """Anything with ``on_entry(entry)``; an optional ``name`` names its cursor file.

    A sink that keeps what it was given (a file, an index) also defines
    ``forget(entry_ids: list[int]) -> None``: ``Ledger.forget`` calls it so an
    erasure reaches every derived copy, not just the ledger file.
    """

    def on_entry(self, entry: Entry) -> None: ...


@dataclass(frozen=True, slots=True)
class SinkStats:
    """How one sink is keeping up: where its cursor is, what it delivered and what failed."""

    name: str
    cursor: int  # id of the last entry handed to the sink
    delivered: int  # entries delivered since the runner started
    failures: int  # sink calls that raised, and catch-up reads that failed
    last_error: str | None
    queued: int  # durable entries waiting in memory for the sink's thread
    catching_up: bool  # reading the file past the cursor instead of the in-memory queue


class SinkRunner:
    """One sink's thread, queue and cursor."""

    def __init__(
        self,
        name: str,
        sink: LedgerSink,
        ledger_file: Path,
        cursor_dir: Path,
        head: Callable[[], int],
        *,
        max_queue: int = MAX_QUEUE,
    ) -> None:
        self.name = name
        self.sink = sink
        self._file = ledger_file
        self._cursor_path = cursor_dir / f"{name}.cursor"
        self._head = head
        self._max_queue = max_queue
        self._cond = threading.Condition()
        self._queue: deque[Entry] = deque()
        self._catching_up = True  # always start by reading what the file holds past the cursor
        self._stopping = False
        self._abandoned = False  # stop() timed out: deliver nothing more, persist nothing
        self._busy = False
        self.cursor, self._offset = self._load_cursor()
        self.delivered = 0
        self.failures = 0
        self.last_error: str | None = None
        self._since_persist = 0
        self._thread = threading.Thread(target=self._run, name=f"orca-ledger-sink-{name}")
        self._thread.daemon = True
        self._thread.start()

    # -- called by the committer ------------------------------------------------------------

    def offer(self, entries: list[Entry]) -> None:
        """Queue a durable batch; never blocks on the sink."""
        with self._cond:
            if self._catching_up:
                return  # the file read will reach these
            if len(self._queue) + len(entries) > self._max_queue:
                self._queue.clear()
                self._catching_up = True
            else:
                self._queue.extend(entries)
            self._cond.notify()

    def forget(self, entry_ids: list[int]) -> None:
        """Pass an erasure to the sink's ``forget`` hook, if it has one; a failure is counted."""
        hook = getattr(self.sink, "forget", None)
        if hook is None:
            return
        try:
            hook(entry_ids)
        except Exception as exc:  # isolated like on_entry: count, keep the reason
            self.failures += 1
            self.last_error = f"forget {entry_ids}: {type(exc).__name__}: {exc}"

    def reset_offset(self) -> None:
        """Forget the byte offset (the file changed under it); the id cursor still rules."""
        with self._cond:
            self._offset = 0

    # -- control ------------------------------------------------------------------------------

    def idle(self) -> bool:
        with self._cond:
            return (
                not self._queue
                and not self._catching_up
                and not self._busy
                and self.cursor >= self._head()
            )

    def wait_idle(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queue and not self._catching_up and not self._busy,
                timeout,
            )

    def stop(self, timeout: float | None) -> bool:
        """Deliver what is queued (within ``timeout``), persist the cursor, end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandoned = True  # a reopened ledger's runner catches up from the cursor
            return False
        self._persist()
        return True

    def stats(self) -> SinkStats:
        with self._cond:
            return SinkStats(
                self.name,
                self.cursor,
                self.delivered,
                self.failures,
                self.last_error,
                len(self._queue),
                self._catching_up,
            )

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._abandoned:
            with self._cond:
                while not self._queue and not self._catching_up and not self._stopping:
                    self._persist_if_due(force=True)
                    self._cond.notify_all()  # wake wait_idle
                    self._cond.wait()
                if self._stopping and not self._queue and not self._catching_up:
                    return
                catching_up = self._catching_up
                batch = list(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                if catching_up:
                    self._catch_up()
                else:
                    for entry in batch:
                        if self._abandoned:
                            return
                        self._deliver(entry)
            finally:
                with self._cond:
                    self._busy = False

    def _catch_up(self) -> None:
        """Read from the file until the cursor reaches the durable head, then go live."""
        while not self._abandoned:
            try:
                result = read_entries(self._file, self._offset, max_entries=CATCH_UP_CHUNK)
            except LedgerError as exc:  # damaged file: say so, retry later, never crash
                self.failures += 1
                self.last_error = f"catch-up: {exc}"
                with self._cond:
                    self._cond.wait(RETRY_S)
                return
            for entry in result.entries:
                if self._abandoned:
                    return
                self._deliver(entry)
            self._offset = result.next_offset
            if result.entries:
                continue
            with self._cond:
                if self.cursor >= self._head():
                    self._catching_up = False
                else:  # nothing readable yet behind the head: look again shortly
                    self._cond.wait(RETRY_S)
            return

    def _deliver(self, entry: Entry) -> None:
        if entry.id <= self.cursor:
            return  # already delivered (a catch-up read overlapped the queue)
        try:
            self.sink.on_entry(entry)
        except Exception as exc:  # a sink's failure is its own: count it and move on
            self.failures += 1
            self.last_error = f"entry {entry.id}: {type(exc).__name__}: {exc}"
        self.cursor = entry.id
        self.delivered += 1
        self._since_persist += 1
        self._persist_if_due()

    # -- the cursor ------------------------------------------------------------------------------

    def _load_cursor(self) -> tuple[int, int]:
        try:
            d = orjson.loads(self._cursor_path.read_bytes())
            return int(d["id"]), int(d.get("offset", 0))
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return 0, 0

    def _persist_if_due(self, force: bool = False) -> None:
        if self._since_persist and (force or self._since_persist >= PERSIST_EVERY):
            self._persist()

    def _persist(self) -> None:
        """Write the cursor (temp + rename). Not fsync'd: losing it only means redelivery."""
        if self._abandoned:
            return
        self._since_persist = 0
        data = orjson.dumps({"id": self.cursor, "offset": self._offset})
        tmp = self._cursor_path.with_name(self._cursor_path.name + ".tmp")
        try:
            self._cursor_path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, self._cursor_path)
        except OSError as exc:
            self.last_error = f"cursor not saved: {exc}"
