"""The fail-safe journal sink: the only thing on the hot path that touches the OS.

``emit`` serialises one record and hands it to the kernel with one ``os.write``
on an ``O_APPEND`` descriptor. There is no user-space buffer and no background
writer, so whatever ``emit`` returned from is in the page cache and outlives a
crash of the process. Every failure (full disk, closed descriptor, a value
orjson cannot encode, a record over the size limit) is counted, warned about
once and swallowed: the traced turn never sees an exception from here.
"""

import math
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from orca._version import __version__
from orca.journal._hooks import ProcessHooks
from orca.journal._procinfo import hostname, process_start_ticks
from orca.journal._segments import SegmentName

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_ROTATE_BYTES: Final = 64 * 1024 * 1024  # a segment this big (bytes) closes; the next opens
# Verbatim bodies of many MB fit (the store moves big ones to the blob store).
DEFAULT_MAX_RECORD_BYTES: Final = 32 * 1024 * 1024
DEFAULT_HEARTBEAT_S: Final = 10.0  # seconds between heartbeat records (the writer is alive)
PROC_COMPONENT: Final = "orca.journal"

_write: Final = os.write
_FLAGS: Final = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_SCALARS: Final = (str, int, float, bool)
HOOKS: Final = ProcessHooks()  # one fork hook and one exit hook for every open sink


def _stringify(value: object) -> str:
    try:
        import orjson

        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return str(value)  # may raise: the caller counts the record as dropped


BODY_TRUNCATED_ATTR: Final = "orca.body.truncated_bytes"
ATTRS_DROPPED_ATTR: Final = "orca.attrs.dropped"


def _scalar(v: object) -> Any:
    """An attribute value as the record contract stores it: finite float, bounded int, or str."""
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return float(v)
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, int):
        return int(v) if -(2**63) <= v < 2**63 else str(v)
    if isinstance(v, str):
        return str(v)
    return _stringify(v)


def _rescue(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` that orjson encodes and the record contract accepts.

    Attribute values become flat scalars (non-finite floats the strings
    ``"NaN"``, ``"Infinity"``, ``"-Infinity"``: orjson would write ``null``),
    an empty attribute name becomes ``"(empty)"``, a non-string body or
    message its ``str()``.
    """
    fixed = dict(record)
    attrs = fixed.get("attrs")
    if isinstance(attrs, dict):
        fixed["attrs"] = {
            (str(k) or "(empty)"): _scalar(v) for k, v in attrs.items() if v is not None
        }
    if "body" in fixed and not isinstance(fixed["body"], str):
        fixed["body"] = str(fixed["body"])
    if "msg" in fixed and not isinstance(fixed["msg"], str):
        fixed["msg"] = str(fixed["msg"])
    return fixed


def _shrink(record: dict[str, Any], over: int) -> dict[str, Any] | None:
    """A copy of an oversize record ``over`` bytes smaller: the body cut, or attributes dropped.

    The span must survive: a body is kept up to what fits, and the span says how
    many bytes were cut (``orca.body.truncated_bytes``); if there is no body the
    attributes are replaced by their count (``orca.attrs.dropped``). None when
    even that cannot help (never for records capture builds).
    """
    fixed = dict(record)
    body = fixed.get("body")
    attrs = dict(fixed.get("attrs") or {})
    if isinstance(body, str) and body:
        raw = body.encode("utf-8", "surrogatepass")
        kept = raw[: max(len(raw) - over, 0)].decode("utf-8", "ignore")
        fixed["body"] = kept
        attrs[BODY_TRUNCATED_ATTR] = len(raw) - len(kept.encode("utf-8", "surrogatepass"))
        fixed["attrs"] = attrs
        return fixed
    if attrs:
        fixed["attrs"] = {ATTRS_DROPPED_ATTR: len(attrs)}
        return fixed
    return None


class JournalSink:
    """Writes records to this process's journal segments under ``journal_dir``.

    ``scrub`` (bytes → bytes) runs on every serialised record before it is
    written; capture passes its secret backstop here, and ``argv`` (the command
    line with secret-named options masked) for the ``proc`` records. ``heartbeat_s=None``
    disables the heartbeat thread (tests drive :meth:`heartbeat` directly).
    """

    def __init__(
        self,
        journal_dir: "Path | str",
        *,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        heartbeat_s: float | None = DEFAULT_HEARTBEAT_S,
        scrub: Callable[[bytes], bytes] | None = None,
        clock: Callable[[], int] = time.time_ns,
        on_exit: bool = True,
        argv: list[str] | None = None,
    ) -> None:
        self.journal_dir = journal_dir
        self._argv = argv  # the command line to record (masked by capture); None: sys.argv
        self.rotate_bytes = rotate_bytes
        self.max_record_bytes = max_record_bytes
        self.heartbeat_s = heartbeat_s
        self._scrub = scrub
        self._clock = clock
        self._lock = threading.RLock()  # rotation and close only; never held around emit
        self._closed = False
        self._warned = False
        self.dropped = 0
        self.drop_reasons: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fdcell = [-1]
        self._sizecell = [0]
        self._torncell = [False]  # a short write left a half line: start the next on a new line
        self._build_emit()
        os.makedirs(journal_dir, exist_ok=True)
        self._open_process()
        HOOKS.add(self, on_exit=on_exit)

    # -- the hot path ------------------------------------------------------

    def _build_emit(self) -> None:
        """Build ``self.emit`` as a closure: configuration is baked in, not looked up per record.

        The descriptor lives in ``self._fdcell`` (a one-item list) so rotation and
        fork can swap it without rebuilding the closure.
        """
        fdcell = self._fdcell
        limit = self.max_record_bytes
        scrub = self._scrub
        rotate_at = self.rotate_bytes
        import orjson  # at open time, not import time: `import orca` stays cheap

        dumps, write, opt = orjson.dumps, _write, orjson.OPT_APPEND_NEWLINE
        sizecell = self._sizecell
        torncell = self._torncell
        rescue, drop, after, shrink = self._rescue, self._drop, self._after_write, self._shrink

        def emit(record: dict[str, Any]) -> None:
            try:
                data = dumps(record, option=opt)
            except Exception:
                rescued = rescue(record)
                if rescued is None:
                    return
                data = rescued
            # NaN/±inf (orjson writes null) or an empty attribute name: only attrs hold them.
            if "attrs" in record and (data.find(b"null") >= 0 or data.find(b'"":') >= 0):
                rescued = rescue(record)
                if rescued is None:
                    return
                data = rescued
            if len(data) > limit:
                rescued = shrink(record, len(data))
                if rescued is None:
                    return
                data = rescued
            # Only fields a caller fills with free text can carry a secret; a bare
            # span-close (ids, status) skips the scan.
            if scrub is not None and (
                "attrs" in record or "body" in record or "msg" in record or "argv" in record
            ):
                data = scrub(data)
            if torncell[0]:  # the last write was cut short: never glue onto its half line
                data = b"\n" + data
            try:
                written = write(fdcell[0], data)
            except Exception as exc:
                drop("write", exc)
                return
            torncell[0] = False
            size = sizecell[0] + written
            sizecell[0] = size
            if size >= rotate_at or written != len(data):
                after(written, len(data))

        self.emit: Callable[[dict[str, Any]], None] = emit

    @property
    def fd(self) -> int:
        """The descriptor of the current segment (-1 once closed)."""
        return self._fdcell[0]

    def _rescue(self, record: dict[str, Any]) -> bytes | None:
        try:
            import orjson

            return orjson.dumps(_rescue(record), option=orjson.OPT_APPEND_NEWLINE)
        except Exception as exc:
            self._drop("unserialisable", exc)
            return None

    def _shrink(self, record: dict[str, Any], size: int) -> bytes | None:
        """An oversize record cut to fit (see :func:`_shrink`), or None (counted as dropped)."""
        limit = self.max_record_bytes
        try:
            import orjson

            base = _rescue(record)
            over = size - limit + 1024
            for _ in range(6):  # JSON escaping can make one body byte cost up to 6
                fixed = _shrink(base, over)
                if fixed is None:
                    break
                data = orjson.dumps(fixed, option=orjson.OPT_APPEND_NEWLINE)
                if len(data) <= limit:
                    return data
                over += len(data) - limit + 1024
        except Exception as exc:
            self._drop("oversize", exc)
            return None
        self._drop("oversize", None)
        return None

    def _after_write(self, written: int, expected: int) -> None:
        if written != expected:
            if written > 0:
                self._torncell[0] = True
            self._drop("short-write", None)
        if self._sizecell[0] >= self.rotate_bytes:
            self._rotate()

    # -- process and segment lifecycle ---------------------------------------

    def _open_process(self) -> None:
        self.pid = os.getpid()
        self.pstart = process_start_ticks(self.pid)
        self.start_ns = self._clock()
        self.seq = 0
        self._switch_segment("start")
        if self.heartbeat_s:
            self._start_heartbeat()

    def _switch_segment(self, event: str) -> None:
        """Open segment ``self.seq``, write its ``proc`` header, then make it current.

        The descriptor *number* never changes: the new file is opened on a
        temporary descriptor, gets its header, and is then ``dup2``'d over the
        current one. A thread that loaded the number just before the switch
        writes into the new segment (after its header) instead of into a closed
        or, worse, reused descriptor.
        """
        name = SegmentName(self.pid, self.start_ns, self.seq)
        path = os.path.join(self.journal_dir, name.filename)
        tmp = os.open(path, _FLAGS, 0o644)
        try:
            header = self._proc(event, seq=self.seq, **self._identity())
            import orjson

            line = orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE)
            if self._scrub is not None:  # argv may carry a key passed on the command line
                line = self._scrub(line)
            _write(tmp, line)
            current = self._fdcell[0]
            if current < 0:
                self._fdcell[0] = tmp
                tmp = -1
            else:
                os.dup2(tmp, current)
        finally:
            if tmp >= 0:
                os.close(tmp)
        self.path = path
        self._sizecell[0] = 0
        self._torncell[0] = False

    def _identity(self) -> dict[str, Any]:
        argv = list(sys.argv) if self._argv is None else list(self._argv)
        ident: dict[str, Any] = {"host": hostname(), "argv": argv, "version": __version__}
        if self.pstart is not None:
            ident["pstart"] = self.pstart
        return ident

    def _proc(self, event: str, **fields: Any) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": "proc",
            "ts": self._clock(),
            "component": PROC_COMPONENT,
            "event": event,
            "pid": self.pid,
            **fields,
        }

    def _rotate(self) -> None:
        with self._lock:
            if self._sizecell[0] < self.rotate_bytes or self._closed:
                return  # another thread rotated first
            self.seq += 1
            try:
                self._switch_segment("segment")
            except OSError as exc:
                self.seq -= 1
                self._sizecell[0] = 0  # keep writing the old segment; retry at the next limit
                self._drop("rotate", exc, count=False)

    def heartbeat(self) -> None:
        """Write a heartbeat ``proc`` record (the collector's sign of life)."""
        if not self._closed:
            self.emit(self._proc("heartbeat", dropped=self.dropped))

    def _start_heartbeat(self) -> None:
        self._stop = threading.Event()
        ref = weakref.ref(self)
        interval = float(self.heartbeat_s or 0)
        stop = self._stop

        def beat() -> None:
            while not stop.wait(interval):
                sink = ref()
                if sink is None:
                    return
                sink.heartbeat()
                del sink

        self._thread = threading.Thread(target=beat, name="orca-journal-heartbeat", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: the parent's segment is not ours, start our own."""
        self._lock = threading.RLock()
        self.dropped = 0
        self.drop_reasons = {}
        if self._closed:
            return
        try:
            self._open_process()
        except OSError as exc:
            self._fdcell[0] = -1  # never write into the parent's segment
            self._drop("fork", exc)

    def close(self) -> None:
        """Write the clean-exit ``proc`` record and release the descriptor. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self.emit(self._proc("exit", dropped=self.dropped))
            self._closed = True
            HOOKS.remove(self)
            self._stop.set()
            _close_quietly(self._fdcell[0])
            self._fdcell[0] = -1

    @property
    def closed(self) -> bool:
        return self._closed

    # -- failure accounting ---------------------------------------------------

    def _drop(self, reason: str, exc: BaseException | None, *, count: bool = True) -> None:
        if self._closed and reason == "write":  # not a disk problem: used after close()
            reason, exc = "closed", None
        if count:
            self.dropped += 1
            self.drop_reasons[reason] = self.drop_reasons.get(reason, 0) + 1
        if self._warned:
            return
        self._warned = True
        detail = f": {exc}" if exc is not None else ""
        if reason == "closed":
            detail = ": the recorder is closed; records made after close() are not kept"
        message = (
            f"orca: journal record dropped ({reason}{detail}); further drops are counted "
            f"silently and reported in heartbeat and exit records ({self.journal_dir})"
        )
        try:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        except Exception:  # warnings configured as errors must not break the turn either
            try:
                sys.stderr.write(message + "\n")
            except Exception:
                pass


def _close_quietly(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass
