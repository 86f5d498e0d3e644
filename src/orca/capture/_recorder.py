"""The Recorder: wires record builders to a journal sink under an ORCA home.

Everything that can be decided once is decided here, at open time (which sink,
which clock, enabled or not), so that the handles it gives out carry no
per-call configuration checks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Literal

from orca._home import resolve_home
from orca.capture._errors import CaptureError
from orca.capture._ids import IdGenerator
from orca.capture._mask import mask_argv, scrub_secrets
from orca.capture._requests import ToolRequests
from orca.capture._sink import Sink
from orca.capture._span import NOOP_LOGGER, NOOP_SPAN, Logger, Span, make_core
from orca.capture._warn import safe_warn
from orca.journal import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_MAX_RECORD_BYTES,
    DEFAULT_ROTATE_BYTES,
    JournalSink,
)

if TYPE_CHECKING:
    from pathlib import Path

DISABLE_ENV: Final = "ORCA_DISABLED"  # the variable that turns recording off (1/true/yes/on)


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


def disabled_by_env(value: str) -> bool:
    """``ORCA_DISABLED``: 1/true/yes/on (any case) disable; 0/false/no/off/empty do not.

    Anything else keeps recording on (losing a record is worse than recording
    one too many) and says so once.
    """
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word not in _FALSE:
        safe_warn(
            f"orca: {DISABLE_ENV}={value!r} is not one of 1/true/yes/on or 0/false/no/off; "
            "recording stays on"
        )
    return False


class Recorder:
    """Hands out loggers whose records go to one sink (by default this process's journal)."""

    def __init__(
        self,
        sink: Sink,
        *,
        home: Path | None = None,
        enabled: bool = True,
        clock: Callable[[], int] = time.time_ns,
        ids: IdGenerator | None = None,
    ) -> None:
        self.sink = sink
        self.home = home
        self.enabled = enabled
        ids = ids or IdGenerator()
        # call id → the provider.request that asked for it, for this recorder's handles only
        self.tool_requests = ToolRequests()
        self._core = make_core(sink, clock, ids.trace_id, ids.span_id, home, self.tool_requests)
        self._closed = False

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        enabled: bool | None = None,
        clock: Callable[[], int] = time.time_ns,
        ids: IdGenerator | None = None,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        heartbeat_s: float | None = DEFAULT_HEARTBEAT_S,
        backstop: bool = True,
        collector: Literal["auto"] | None = None,
    ) -> Recorder:
        """Record into ``home``'s journal (``home`` → ``$ORCA_HOME`` → ``./.orca``).

        ``enabled=False`` (or ``ORCA_DISABLED=1``) opens nothing: every span is
        a shared no-op, so instrumented code runs unchanged and nearly free.
        ``backstop=False`` skips the journal's scan for secret-shaped text (a
        third of the per-span cost): for code that masks every secret itself.
        ``collector="auto"`` starts a detached ``orca collect`` for ``home`` when
        none holds its lock, so a plain script gets a queryable store;
        ``collector=None`` never starts one.
        """
        if enabled is None:
            enabled = not disabled_by_env(os.environ.get(DISABLE_ENV, ""))
        path = resolve_home(home)
        if not enabled:
            return cls(_NullSink(), home=path, enabled=False, clock=clock, ids=ids)
        try:
            sink = JournalSink(
                path / "journal",
                rotate_bytes=rotate_bytes,
                max_record_bytes=max_record_bytes,
                heartbeat_s=heartbeat_s,
                scrub=scrub_secrets if backstop else None,
                clock=clock,
                argv=mask_argv(sys.argv) if backstop else None,
            )
        except OSError as exc:  # a read-only or missing-permission home: the agent runs on
            safe_warn(
                f"orca: recording is off: cannot write the journal under {path} "
                f"({exc.strerror or exc}); point ORCA_HOME at a writable directory"
            )
            return cls(_NullSink(), home=path, enabled=False, clock=clock, ids=ids)
        if collector == "auto":
            from orca.capture._supervise import ensure_collector

            ensure_collector(path)
        return cls(sink, home=path, enabled=True, clock=clock, ids=ids)

    def logger(self, component: str) -> Logger:
        """A logger that stamps ``component`` on every record it and its spans make."""
        if not self.enabled:
            return NOOP_LOGGER
        if not component:
            raise CaptureError("component must be a non-empty name, e.g. 'billing-agent'")
        return Logger(self._core, component)

    def resume(
        self,
        component: str,
        trace_id: str,
        span_id: str,
        name: str = "",
        parent_id: str | None = None,
    ) -> Span:
        """A handle on a span opened earlier, perhaps by a process that has since died.

        Writes nothing itself: the handle closes that span (``end``) or opens
        children under it, so work that outlives a process (an orchestrated
        run across a restart) stays one trace.
        """
        if not self.enabled:
            return NOOP_SPAN
        return Span(self._core, component, trace_id, span_id, parent_id, name)

    @property
    def dropped(self) -> int:
        """Records the sink could not write (full disk, oversize, …)."""
        return int(getattr(self.sink, "dropped", 0))

    def close(self) -> None:
        """Flush nothing (there is no buffer); write the clean-exit record. Idempotent."""
        if not self._closed:
            self._closed = True
            self.sink.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _NullSink:
    def emit(self, record: dict[str, object]) -> None:
        pass

    def close(self) -> None:
        pass
