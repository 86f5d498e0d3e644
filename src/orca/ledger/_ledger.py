"""The ledger: durable, hash-chained, signed appends with group commit.

``append`` returns only after the caller's entry is fsync'd. Concurrent
callers queue their actions; whoever finds no commit in progress becomes the
committer for everything queued, writes it as one batch (entries, one
Ed25519 signature over the last entry's hash, sometimes a checkpoint) with
one ``write`` and one ``fsync``, and wakes everyone the batch covered. While
it waits on the disk, the next batch gathers, so throughput grows with the
number of appenders while each caller still waits only for its own entry.

One process appends to a ledger at a time (the home lock, :mod:`orca._pidlock`,
on ``ledger/lock``, naming the writer's pid); any number may read it.
"""

import os
import sys
import threading
import time
from _thread import allocate_lock as _allocate_lock
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orca._home import resolve_home
from orca._pidlock import LEDGER_LOCK, LockHeld, PidLock
from orca.journal import AppendFile, DurableWriteError
from orca.ledger import merkle
from orca.ledger._errors import ActionError, LedgerError, LedgerLocked
from orca.ledger._forget import erase_in_place
from orca.ledger._format import (
    DEFAULT_MAX_ENTRY_BYTES,
    HEADER_ROOM,
    MAX_ENTRY_BYTES_LIMIT,
    Action,
    BatchSig,
    Checkpoint,
    Entry,
    batch_message,
    checkpoint_message,
    encode_ckpt,
    encode_entry,
    encode_sig,
    sha256_hex,
)
from orca.ledger._headfile import load_head, save_head
from orca.ledger._keys import Signer, TrustedKeys, keys_dir, load_or_create_signer, rotate
from orca.ledger._read import CHECKPOINT_FILE, LEDGER_DIR, LEDGER_FILE, read_entries
from orca.ledger._recover import Head, check_head, repair_checkpoint_log, scan, truncate_tail
from orca.ledger._sinks import MAX_QUEUE, LedgerSink, SinkRunner, SinkStats
from orca.ledger.memory import MEMORY_FILE, forget_in_file

DEFAULT_CHECKPOINT_EVERY = 1024  # entries between signed Merkle checkpoints
REPAIRED_KIND = "ledger.repaired"  # the entry opening appends after repairing a crash's tail
DEFAULT_COMMIT_DELAY = 0.0005  # seconds a committer may wait to gather a bigger batch
_ACTION_FIELDS = frozenset(Action.__dataclass_fields__)


def _coerce(action: Action | Mapping[str, Any]) -> Action:
    if isinstance(action, Action):
        return action
    if not isinstance(action, Mapping):
        raise ActionError(f"an action is an orca.ledger.Action or a mapping, not {type(action)}")
    unknown = set(action) - _ACTION_FIELDS
    if unknown or "kind" not in action:
        raise ActionError(
            f"action fields must include 'kind' and be among {sorted(_ACTION_FIELDS)}; "
            f"got unknown {sorted(unknown)}"
        )
    return Action(**action)


class _Pending:
    """One caller's action on its way to disk; ``wake`` wakes the caller once.

    ``wake`` is a bare lock held from birth: the caller blocks acquiring it and
    whoever releases it wakes exactly that caller (cheaper than an Event, which
    builds a Condition per waiter; that matters with 64 appenders).
    """

    __slots__ = ("action", "done", "entry", "error", "payload", "ph", "wake")

    def __init__(self, action: Action, payload: bytes, ph: str) -> None:
        self.action = action
        self.payload = payload
        self.ph = ph
        self.done = False
        self.entry: Entry | None = None
        self.error: BaseException | None = None
        self.wake = _allocate_lock()  # released when done, or when promoted to committer
        self.wake.acquire()


class AppendTicket:
    """A queued append (see :meth:`Ledger.begin_append`); ``wait`` returns its durable entry."""

    __slots__ = ("_lead", "_ledger", "_pending")

    def __init__(self, ledger: "Ledger", pending: _Pending, lead: bool) -> None:
        self._ledger = ledger
        self._pending = pending
        self._lead = lead

    def wait(self) -> Entry:
        """Block until the entry is fsync'd and signed; raise what the commit raised."""
        pending = self._pending
        if not self._lead and not pending.done:
            pending.wake.acquire()  # one wake-up: our batch is done, or it is our turn to commit
        self._lead = False
        if not pending.done:
            self._ledger._lead()
        if pending.error is not None:
            raise pending.error
        assert pending.entry is not None
        return pending.entry


class Ledger:
    """An open ledger. Use :meth:`open`; close it (or use ``with``) to write a final checkpoint."""

    def __init__(
        self,
        directory: Path,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        clock: Callable[[], int] = time.time_ns,
        commit_delay: float = DEFAULT_COMMIT_DELAY,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    ) -> None:
        if not HEADER_ROOM < max_entry_bytes <= MAX_ENTRY_BYTES_LIMIT:
            raise LedgerError(
                f"max_entry_bytes must be between {HEADER_ROOM + 1} and {MAX_ENTRY_BYTES_LIMIT}"
            )
        self.max_entry_bytes = max_entry_bytes
        self.dir = directory
        self.path = directory / LEDGER_FILE
        self.checkpoint_path = directory / CHECKPOINT_FILE
        self.checkpoint_every = checkpoint_every
        self._clock = clock
        directory.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = PidLock(directory / LEDGER_LOCK)
        except LockHeld as exc:
            raise LedgerLocked(str(directory), exc.pid) from None
        try:
            self._signer: Signer = load_or_create_signer(directory)
            trusted = TrustedKeys.from_dir(keys_dir(directory))
            head = load_head(directory, self.path, self.checkpoint_path)
            self.from_head = head is not None  # closed cleanly and untouched since: no re-hash
            if head is not None:
                check_head(self.path, head, trusted)
            else:
                head = scan(self.path)
                check_head(self.path, head, trusted)
                truncate_tail(self.path, head)
                repair_checkpoint_log(self.checkpoint_path, head)
            self._file = AppendFile(self.path, durable=True)
            self._ckpt_file = AppendFile(self.checkpoint_path, durable=True)
        except BaseException:
            self._writer.release()
            raise
        self.recovered_bytes = head.truncated_bytes
        self._next_id = head.last_id + 1
        self._head = head.last_hash
        self._last_ts = head.last_ts
        self._acc = head.acc
        self._ckpt_size = head.last_ckpt_size
        self._size = head.size_bytes
        self._last_sig = head.last_sig
        self._last_entry_offset = head.last_entry_offset
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: list[_Pending] = []
        self._writing = False  # someone is committing (or holds the files exclusively)
        self._exclusive_waiting = 0
        self._fill = threading.Condition(self._lock)  # the committer gathering a batch
        self._want = 0
        self._last_batch = 0
        self.commit_delay = commit_delay
        self._closed = False
        self._broken: BaseException | None = None
        self._sinks: list[SinkRunner] = []
        self.batches = 0
        self.checkpoint_errors = 0
        self.repairs = head.repairs
        if head.repairs:
            self._record_repairs(head.repairs)

    def _record_repairs(self, repairs: list[str]) -> None:
        """Say on stderr what opening repaired, and make it an entry so verify still shows it."""
        for what in repairs:
            sys.stderr.write(f"orca: ledger at {self.dir} repaired on open: {what}\n")
        try:
            self.append(Action(kind=REPAIRED_KIND, actor="orca", meta={"repairs": repairs}))
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        clock: Callable[[], int] = time.time_ns,
        commit_delay: float = DEFAULT_COMMIT_DELAY,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    ) -> "Ledger":
        """Open (creating if needed) the ledger of ``home`` (default ``$ORCA_HOME``/``./.orca``).

        Recovery happens here: a torn or unsigned tail is truncated, the
        checkpoint log repaired, and a head that does not verify refused. After
        a clean close the saved head is used instead of re-hashing the file
        (``from_head`` says so; see ``_headfile``). ``max_entry_bytes`` bounds
        one entry line (payload plus header): a bigger action is refused with
        :class:`ActionError` before anything is written.
        """
        return cls(
            resolve_home(home) / LEDGER_DIR,
            checkpoint_every=checkpoint_every,
            clock=clock,
            commit_delay=commit_delay,
            max_entry_bytes=max_entry_bytes,
        )

    # -- facts ---------------------------------------------------------------------------------

    @property
    def last_id(self) -> int:
        """The id of the last durable entry (0 when empty)."""
        return self._next_id - 1

    @property
    def head_hash(self) -> str:
        return self._head

    @property
    def key_id(self) -> str:
        return self._signer.key_id

    # -- appending -------------------------------------------------------------------------------

    def append(self, action: Action | Mapping[str, Any]) -> Entry:
        """Record ``action``; return its entry once it is fsync'd and signed.

        Raises :class:`ActionError` (nothing written) for a bad action and
        :class:`orca.journal.DurableWriteError` when the disk refused the batch.
        """
        return self.begin_append(action).wait()

    def begin_append(self, action: Action | Mapping[str, Any]) -> "AppendTicket":
        """Queue ``action`` now (its place in the ledger is fixed) and return a ticket to wait on.

        For callers that must order entries under their own lock (the
        orchestrator queues while holding its state lock, so ledger order is
        the order its state changed) but must not hold that lock across the
        fsync. Call ``ticket.wait()`` soon, and the tickets of one thread in
        the order they were begun: the first may have to lead the commit.
        """
        return self.begin_append_all([action])[0]

    def begin_append_all(
        self, actions: Sequence[Action | Mapping[str, Any]]
    ) -> list["AppendTicket"]:
        """Queue several actions at once: they land in one batch, so on disk it is all or none.

        A crash can never leave the first without the rest (a batch is
        durable only with its signature line, written after its entries).
        Wait on the tickets in order.
        """
        pendings = []
        for action in actions:
            act = _coerce(action)
            act.check()
            payload = act.payload_bytes()
            if len(payload) + HEADER_ROOM > self.max_entry_bytes:  # nothing queued yet
                raise ActionError(
                    f"action payload is {len(payload)} bytes; a ledger entry holds at most "
                    f"{self.max_entry_bytes - HEADER_ROOM} (store big data as a blob and record "
                    "its address, or open the ledger with a larger max_entry_bytes)"
                )
            pendings.append(_Pending(act, payload, sha256_hex(payload)))
        with self._lock:
            self._check_usable()
            self._queue.extend(pendings)
            lead = not self._writing
            self._writing = True
            if self._want and len(self._queue) >= self._want:
                self._fill.notify()
        return [AppendTicket(self, p, lead and i == 0) for i, p in enumerate(pendings)]

    def _lead(self) -> None:
        """Commit everything queued, then hand the committer's role on.

        Group-commit gathering: when the last batch was bigger than what is
        queued now, the callers it just released are probably about to append
        again, so wait (at most ``commit_delay`` seconds, a fraction of one
        fsync) for three quarters of them. One appender never waits.
        """
        with self._lock:
            target = (self._last_batch * 3) // 4
            if self.commit_delay > 0 and len(self._queue) < target:
                self._want = target
                self._fill.wait(self.commit_delay)
                self._want = 0
            batch, self._queue = self._queue, []
            self._last_batch = len(batch)
        try:
            self._commit(batch)
        finally:
            self._release_writer()

    def _release_writer(self) -> None:
        """Pass the files to a waiting exclusive operation, or the next queued caller, or nobody.

        Handing the role to exactly one waiter (rather than waking everyone to
        race for it) keeps 64 appenders from stampeding after every fsync.
        """
        with self._lock:
            if self._exclusive_waiting:
                self._writing = False
                self._cond.notify_all()
            elif self._queue:
                self._queue[0].wake.release()
            else:
                self._writing = False

    def _commit(self, batch: list[_Pending]) -> None:
        """Write one batch. Never raises: errors are handed to each caller in the batch."""
        try:
            if self._closed:
                raise LedgerError(f"the ledger at {self.dir} is closed")
            if self._broken is not None:
                raise self._broken
            ts = max(self._clock(), self._last_ts)
            lines: list[bytes] = []
            made: list[tuple[int, str, str, int]] = []  # id, prev, hash, offset
            prev = self._head
            next_id = self._next_id
            offset = self._size
            acc = self._acc.copy()
            for p in batch:
                line, h = encode_entry(next_id, ts, p.action, prev, p.payload, p.ph)
                lines.append(line)
                acc.push(merkle.leaf_hash(bytes.fromhex(h)))
                made.append((next_id, prev, h, offset))
                offset += len(line)
                prev = h
                next_id += 1
            upto = next_id - 1
            kid = self._signer.key_id
            sig = BatchSig(upto, prev, kid, self._signer.sign(batch_message(upto, prev)))
            lines.append(encode_sig(sig) + b"\n")
            ckpt = None
            if acc.size - self._ckpt_size >= self.checkpoint_every:
                ckpt = self._make_checkpoint(acc, ts)
                lines.append(encode_ckpt(ckpt) + b"\n")
            self._write(lines)
        except BaseException as exc:
            for p in batch:
                p.error = exc
                p.done = True
                p.wake.release()
            return
        self._next_id, self._head, self._last_ts, self._acc = next_id, prev, ts, acc
        self._last_sig, self._last_entry_offset = sig, made[-1][3]
        self.batches += 1
        for p, (eid, eprev, h, off) in zip(batch, made, strict=True):
            a = p.action
            p.entry = Entry(
                eid, ts, a.kind, a.run, a.trace, a.span, a.actor, eprev, p.ph, h,
                a.args, a.result, a.meta, False, sig.sig, sig.key, off,
            )  # fmt: skip
            p.done = True
            p.wake.release()  # callers return now; sinks and the checkpoint log follow
        signed = [p.entry for p in batch if p.entry is not None]
        for runner in self._sinks:
            runner.offer(signed)
        if ckpt is not None:
            self._log_checkpoint(ckpt)

    def _write(self, lines: list[bytes]) -> None:
        """One write + one fsync; on failure put the file back as it was (or stop appending)."""
        before = self._size
        try:
            self._file.append_many(lines)
        except DurableWriteError as exc:
            try:
                os.ftruncate(self._file.fd, before)
                os.fsync(self._file.fd)
            except OSError:
                self._broken = exc  # the file may hold a partial batch: reopen to recover
            raise
        self._size = before + sum(map(len, lines))

    def _make_checkpoint(self, acc: merkle.Accumulator, ts: int) -> Checkpoint:
        root = acc.root().hex()
        kid = self._signer.key_id
        return Checkpoint(
            acc.size, root, ts, kid, self._signer.sign(checkpoint_message(acc.size, root, ts, kid))
        )

    def _log_checkpoint(self, ckpt: Checkpoint) -> None:
        """Copy a durable checkpoint to the checkpoint log; a failure is repaired on open."""
        try:
            self._ckpt_file.append(encode_ckpt(ckpt) + b"\n")
        except DurableWriteError:
            self.checkpoint_errors += 1
        self._ckpt_size = ckpt.size

    def _check_usable(self) -> None:
        if self._closed:
            raise LedgerError(f"the ledger at {self.dir} is closed")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold off committers while the caller works on the files."""
        with self._cond:
            self._check_usable()
            self._exclusive_waiting += 1
            try:
                while self._writing:
                    self._cond.wait()
            finally:
                self._exclusive_waiting -= 1
            self._check_usable()  # closed while we waited
            self._writing = True
        try:
            yield
        finally:
            self._release_writer()

    # -- checkpoints, keys, erasure -------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Write a signed checkpoint of the current tree now (None if nothing new to cover)."""
        with self._exclusive():
            return self._checkpoint_now()

    def _checkpoint_now(self) -> Checkpoint | None:
        if self._acc.size == 0 or self._acc.size == self._ckpt_size:
            return None
        ckpt = self._make_checkpoint(self._acc, max(self._clock(), self._last_ts))
        self._write([encode_ckpt(ckpt) + b"\n"])
        self._log_checkpoint(ckpt)
        return ckpt

    def rotate_key(self) -> str:
        """Sign from now on with a new key; old public keys stay trusted. Returns the new id."""
        with self._exclusive():
            self._signer = rotate(self.dir)
            return self._signer.key_id

    def forget(self, entry_id: int) -> bool:
        """Erase one entry's payload (GDPR); its header and commitment stay, the chain verifies.

        Returns False when it was already erased. Byte offsets do not move, so
        tailing readers are unaffected. Registered sinks' ``forget`` hooks and
        ``<home>/ledger/memory.ndjson`` are erased too; the store's mirror
        follows on the collector's next round.
        """
        with self._exclusive():
            if not 0 < entry_id < self._next_id:
                raise LedgerError(f"no entry {entry_id} in the ledger (last is {self.last_id})")
            erased = erase_in_place(self.path, entry_id)
        # Every derived copy goes too: registered sinks through their hook, and the
        # working-memory file of this home even when no process has it open.
        for runner in self._sinks:
            runner.forget([entry_id])
        forget_in_file(self.dir / MEMORY_FILE, [entry_id])
        return erased

    # -- sinks -----------------------------------------------------------------------------------

    def register_sink(
        self, sink: LedgerSink, name: str | None = None, *, max_queue: int = MAX_QUEUE
    ) -> None:
        """Tell ``sink`` about every durable entry, in order, from its saved cursor on.

        ``name`` (default: ``sink.name`` or its class name) keys the cursor file,
        so the same name after a restart resumes where it stopped. A sink more
        than ``max_queue`` entries behind stops queueing and reads the file.
        """
        label = name or getattr(sink, "name", None) or type(sink).__name__
        if not isinstance(label, str) or not label.replace("-", "").replace("_", "").isalnum():
            raise LedgerError(f"sink name {label!r} must be letters, digits, '-' and '_'")
        if any(r.name == label for r in self._sinks):
            raise LedgerError(f"a sink named {label!r} is already registered")
        with self._cond:
            self._check_usable()
            self._sinks.append(
                SinkRunner(
                    label,
                    sink,
                    self.path,
                    self.dir / "sinks",
                    lambda: self.last_id,
                    max_queue=max_queue,
                )
            )

    def sink_stats(self) -> list[SinkStats]:
        return [r.stats() for r in self._sinks]

    def wait_for_sinks(
        self, timeout: float | None = None, names: Collection[str] | None = None
    ) -> bool:
        """Block until every sink (or those ``names``) has seen every durable entry.

        True when they have; False when ``timeout`` passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for runner in self._sinks:
            if names is not None and runner.name not in names:
                continue
            while not runner.idle():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                runner.wait_idle(0.05 if left is None else min(left, 0.05))
        return True

    # -- reading and closing -----------------------------------------------------------------------

    def entries(self, from_offset: int = 0) -> list[Entry]:
        """Every signed entry from ``from_offset`` (see :func:`read_entries`)."""
        return read_entries(self.path, from_offset).entries

    def close(self, *, sink_timeout: float = 5.0) -> None:
        """Write a final checkpoint, stop sinks (up to ``sink_timeout`` each), save the head.

        The head is saved only after a close with nothing amiss (no failed write,
        no checkpoint missing from the log), so the next open may skip the scan.
        """
        with self._cond:
            if self._closed:
                return
        clean = False
        try:
            with self._exclusive():
                if self._broken is None:
                    try:
                        self._checkpoint_now()
                    except DurableWriteError:
                        self.checkpoint_errors += 1
                clean = self._broken is None and self.checkpoint_errors == 0
                self._closed = True
        finally:
            for runner in self._sinks:
                runner.stop(sink_timeout)
            self._file.close()
            self._ckpt_file.close()
            if clean:
                self._save_head()
            self._writer.release()

    def _save_head(self) -> None:
        """Leave ``head.json`` for the next open; a failure only costs it a full scan."""
        head = Head(
            last_id=self._next_id - 1,
            last_hash=self._head,
            last_ts=self._last_ts,
            acc=self._acc,
            size_bytes=self._size,
            last_sig=self._last_sig,
            last_ckpt_size=self._ckpt_size,
            last_entry_offset=self._last_entry_offset,
        )
        try:
            save_head(self.dir, self.path, self.checkpoint_path, head)
        except OSError as exc:
            sys.stderr.write(f"orca: ledger at {self.dir}: head not saved ({exc})\n")

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
