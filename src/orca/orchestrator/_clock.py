"""Clocks: every place the orchestrator reads time (TTL, leases, backoff, heartbeats) asks one.

Time is Unix milliseconds. :class:`SystemClock` reads the wall clock (leases
and deadlines outlive the process, so a monotonic clock would not do);
:class:`VirtualClock` moves only when told, so tests and the simulation
never sleep and replay the same schedule every time.
"""

import threading
import time
from typing import Protocol, runtime_checkable

from orca.orchestrator._errors import InvalidRequest


@runtime_checkable
class Clock(Protocol):
    """What the orchestrator needs from time."""

    def now_ms(self) -> int: ...

    def sleep_until(self, deadline_ms: int, wake: threading.Event) -> None:
        """Wait until ``deadline_ms`` or until ``wake`` is set (a virtual clock jumps there)."""


class SystemClock:
    """Wall-clock milliseconds; waiting really waits."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def sleep_until(self, deadline_ms: int, wake: threading.Event) -> None:
        wake.wait(max(0.0, (deadline_ms - self.now_ms()) / 1000))


class VirtualClock:
    """A clock that moves only by :meth:`advance` (or when an idle loop jumps to its next timer).

    Starts at ``start_ms`` (a fixed, recent-looking instant by default) so
    recorded timestamps are plausible and identical run to run.
    """

    DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

    def __init__(self, start_ms: int = DEFAULT_START_MS) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> int:
        """Move forward ``ms`` milliseconds (never back); return the new time."""
        if ms < 0:
            raise InvalidRequest(
                f"a virtual clock only moves forward; advance({ms}) asks to go back"
            )
        with self._lock:
            self._now += ms
            return self._now

    def sleep_until(self, deadline_ms: int, wake: threading.Event) -> None:
        """Jump to ``deadline_ms`` (when it is ahead): nothing else would move this clock."""
        with self._lock:
            if deadline_ms > self._now:
                self._now = deadline_ms
