"""A journal writer for records that arrive from elsewhere (OTLP), which must not fail silently.

The fail-safe sink swallows errors because the traced turn is sovereign. A
relay is the opposite case: the server acknowledges a batch to a remote
exporter only after the batch is in the journal, so every failure must reach
the caller (who answers 4xx/5xx instead of 200) — "never acknowledge what cannot
be read back". A batch is validated whole, then written with one ``os.write``
(whole lines only), so it is in the page cache — as crash-safe as local
capture — before :meth:`RelayWriter.append` returns. After a failed write the
next batch starts on a fresh line, so a torn half line never swallows good
records. One segment per relay, named like any writer's, with ``proc`` start,
heartbeat and exit records so the collector tracks it like any process.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson

from orca._version import __version__
from orca.journal._append import AppendFile
from orca.journal._errors import DurableWriteError, JournalError
from orca.journal._procinfo import hostname, process_start_ticks
from orca.journal._segments import SegmentName
from orca.journal._sink import DEFAULT_MAX_RECORD_BYTES, DEFAULT_ROTATE_BYTES, PROC_COMPONENT
from orca.records import RecordError, validate

if TYPE_CHECKING:
    from pathlib import Path

HEARTBEAT_NS: Final = 10_000_000_000


class RelayError(JournalError):
    """A relayed batch that was not written; ``code``: ``invalid``, ``oversize`` or ``io``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class RelayWriter:
    """Appends validated batches of records to this process's own relay segment; raises."""

    def __init__(
        self,
        journal_dir: Path | str,
        *,
        scrub: Callable[[bytes], bytes] | None = None,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.journal_dir = str(journal_dir)
        self.max_record_bytes = max_record_bytes
        self.rotate_bytes = rotate_bytes
        self._scrub = scrub
        self._clock = clock
        self._lock = threading.Lock()
        self._torn = False
        self._closed = False
        self.pid = os.getpid()
        self.start_ns = clock()
        self.seq = 0
        self.written = 0
        os.makedirs(self.journal_dir, exist_ok=True)
        self._file = self._open("start")

    def _proc(self, event: str, **fields: Any) -> bytes:
        rec = {
            "v": 1,
            "kind": "proc",
            "ts": self._clock(),
            "component": PROC_COMPONENT,
            "event": event,
            "pid": self.pid,
            **fields,
        }
        return orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)

    def _open(self, event: str) -> AppendFile:
        name = SegmentName(self.pid, self.start_ns, self.seq)
        f = AppendFile(os.path.join(self.journal_dir, name.filename))
        ident: dict[str, Any] = {
            "seq": self.seq,
            "host": hostname(),
            "argv": list(sys.argv),
            "version": __version__,
        }
        pstart = process_start_ticks(self.pid)
        if pstart is not None:
            ident["pstart"] = pstart
        line = self._proc(event, **ident)
        f.append(self._scrub(line) if self._scrub else line)
        self._size = len(line)
        self._beat_ns = self._clock()
        return f

    @property
    def path(self) -> str:
        return str(self._file.path)

    def encode(self, records: Sequence[dict[str, Any]]) -> bytes:
        """The batch as journal lines; :class:`RelayError` if any record is not valid."""
        chunks = []
        for i, rec in enumerate(records):
            try:
                validate(rec)
            except RecordError as exc:
                raise RelayError(f"record {i} is not valid: {exc}", "invalid") from None
            line = orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
            if len(line) > self.max_record_bytes:
                raise RelayError(
                    f"record {i} is {len(line)} bytes, over the {self.max_record_bytes}-byte limit",
                    "oversize",
                )
            chunks.append(self._scrub(line) if self._scrub else line)
        return b"".join(chunks)

    def append(self, records: Sequence[dict[str, Any]]) -> int:
        """Write ``records`` whole, or raise; returns the bytes written."""
        data = self.encode(records)
        with self._lock:
            if self._closed:
                raise RelayError("the relay is closed", "io")
            now = self._clock()
            if now - self._beat_ns >= HEARTBEAT_NS:
                data = self._proc("heartbeat", dropped=0) + data
                self._beat_ns = now
            if self._torn:
                data = b"\n" + data  # the last write failed part-way: start on a fresh line
            try:
                self._file.append(data)
            except DurableWriteError as exc:
                self._torn = True
                raise RelayError(f"journal append failed: {exc}", "io") from None
            self._torn = False
            self._size += len(data)
            self.written += len(data)
            if self._size >= self.rotate_bytes:
                self._rotate()
        return len(data)

    def _rotate(self) -> None:
        old = self._file
        self.seq += 1
        try:
            self._file = self._open("segment")
        except (OSError, JournalError):
            self.seq -= 1  # keep the old segment; try again at the next append
            return
        old.close()

    def close(self) -> None:
        """Write the clean-exit record (the collector then never calls this writer crashed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._file.append(self._proc("exit", dropped=0))
            except DurableWriteError:
                pass
            self._file.close()
