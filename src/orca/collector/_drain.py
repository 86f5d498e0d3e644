"""Getting what a program wrote into the store before someone reads it (``orca run``).

Two cases. No collector runs for the home: open one here, drain everything
and close it (it also attributes a crash when the program died without its
clean-exit record). A collector already runs (say one
``Recorder.open(collector="auto")`` started): a second one would refuse the
lock, so instead wait — bounded — until the running one has ingested every
byte the program wrote and settled the program's writers (read their exit
record, or declared them crashed), judged by :func:`collector_status` as
``orca status`` shows it. If that collector goes away while we wait, drain
here after all.
"""

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from orca.collector._collector import Collector
from orca.collector._errors import CollectorLocked
from orca.collector._lock import lock_holder
from orca.collector._status import collector_status
from orca.errors import OrcaError
from orca.journal import list_segments

POLL_S: Final = 0.05


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the store is from holding a set of segments, and whose exit is still unseen."""

    behind_bytes: int = 0
    unsettled: list[str] = field(default_factory=list)  # writers gone, exit not yet seen

    @property
    def done(self) -> bool:
        return self.behind_bytes == 0 and not self.unsettled


def journal_sizes(home: Path, since_ns: int) -> dict[str, int]:
    """Size of every segment whose writer opened it at or after ``since_ns`` (a program's)."""
    out: dict[str, int] = {}
    for name, path in list_segments(home / "journal"):
        if name.start_ns < since_ns:
            continue
        try:
            out[path.name] = path.stat().st_size
        except FileNotFoundError:
            continue
    return out


def progress(home: Path, targets: dict[str, int]) -> Progress:
    """Bytes of ``targets`` (segment -> size) not yet stored, and writers not yet settled.

    A segment no longer in the journal was deleted by a collector, which does
    that only once it is stored and settled. A writer still alive (a lingering
    child) is not waited for.
    """
    behind = 0
    unsettled: list[str] = []
    for seg in collector_status(home, totals=False).segments:
        if seg.segment not in targets:
            continue
        behind += max(targets[seg.segment] - seg.ingested_bytes, 0)
        if not seg.settled and seg.state != "alive" and seg.writer not in unsettled:
            unsettled.append(seg.writer)
    return Progress(behind, unsettled)


def _drain_here(home: Path) -> str | None:
    """Drain ``home`` with a collector in this process; None when done, else its complaint."""
    try:
        with Collector(home) as collector:
            collector.drain()
            collector.store.catch_up_search()  # what was drained is searchable at once
        return None
    except CollectorLocked:
        raise  # a collector started meanwhile: the caller waits for it
    except OrcaError as exc:
        return str(exc)
    except (OSError, sqlite3.DatabaseError) as exc:  # the store or the journal cannot be read
        return f"{type(exc).__name__}: {exc}"


def drain(
    home: Path,
    targets: dict[str, int],
    *,
    timeout_s: float,
    on_wait: Callable[[int], None] = lambda pid: None,
) -> str | None:
    """Get ``targets`` into the store (see the module docstring); None when done, else why not.

    ``on_wait(pid)`` is called once, when a running collector is found and
    waited for. (Ledger damage pauses only the ledger's mirror, not the
    traces: ``orca status`` reports it.)
    """
    deadline = time.monotonic() + timeout_s
    waited_for: int | None = None
    while True:
        holder = lock_holder(home)
        if holder is None:
            try:
                return _drain_here(home)
            except CollectorLocked as exc:  # a collector started meanwhile: wait for it
                holder = exc.pid or 0
        if waited_for is None:
            waited_for = holder
            on_wait(holder)
        state = progress(home, targets)
        if state.done:
            return None
        if time.monotonic() >= deadline:
            who = f"pid {holder}" if holder else "another process"
            left = [f"{state.behind_bytes} bytes not ingested"] if state.behind_bytes else []
            if state.unsettled:
                left.append(f"writer {', '.join(state.unsettled)} not yet settled")
            return (
                f"gave up after {timeout_s:g}s waiting for the running collector ({who}): "
                f"{'; '.join(left)}; what follows may be incomplete (see `orca status`)"
            )
        time.sleep(POLL_S)
