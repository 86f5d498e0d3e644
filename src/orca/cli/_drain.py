"""Getting a program's records into the store before ``orca run`` prints them.

Two cases. No collector runs for the home: run ``orca collect --once`` (it
drains everything and attributes a crash). A collector already runs (say one
``Recorder.open(collector="auto")`` started): a second one would refuse the
lock, so instead wait — bounded — until the running one has ingested every
byte the program wrote, comparing each segment's committed offset with the
size it had when the program exited (what ``orca status`` compares), and has
settled the program's writers (read their exit record, or declared them
crashed). If that collector goes away while we wait, drain ourselves.
"""

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from orca.collector import lock_holder
from orca.journal import list_segments, process_alive
from orca.store import ProcessRow, locate_store, open_location, store_exists

COLLECT_TIMEOUT_S: Final = 300
POLL_S: Final = 0.05


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a running collector is from having ingested a set of segments."""

    behind_bytes: int = 0
    unsettled: list[str] = field(default_factory=list)  # writers gone, exit not yet seen

    @property
    def done(self) -> bool:
        return self.behind_bytes == 0 and not self.unsettled


def drain_once(home: Path) -> str | None:
    """Run the collector once over ``home``; None when it worked, else its complaint."""
    proc = subprocess.run(
        [sys.executable, "-m", "orca", "collect", "--once", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=COLLECT_TIMEOUT_S,
        check=False,
    )
    if proc.returncode == 0:
        return None
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[-1] if lines else f"collector exited with code {proc.returncode}"


def journal_sizes(home: Path, since_ns: int) -> dict[str, int]:
    """Size of every segment whose writer opened it at or after ``since_ns`` (the program's)."""
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
    """Bytes of ``targets`` (segment -> size) not yet committed, and writers not yet settled.

    ``orca status``'s comparison, reading only the store's small ``sources`` and
    ``processes`` tables (status also totals the store, too slow to poll).
    A writer is settled once its exit record is in or a collector declared it
    crashed; one still alive (a lingering child) is not waited for.
    """
    offsets: dict[str, int] = {}
    procs: dict[str, ProcessRow] = {}
    where = locate_store(home)  # the home's store, wherever its URL points
    if store_exists(where):
        with open_location(where) as store:
            offsets = {s.name: s.offset for s in store.sources()}
            procs = {p.writer: p for p in store.processes()}
    sizes = {path.name: name for name, path in list_segments(home / "journal")}
    behind = 0
    unsettled: list[str] = []
    for segment, size in targets.items():
        name = sizes.get(segment)
        if name is None:
            continue  # the collector deletes a segment only once it is ingested and settled
        behind += max(size - offsets.get(segment, 0), 0)
        proc = procs.get(name.writer)
        if proc is not None and (proc.exited_ns is not None or proc.crashed_ns is not None):
            continue
        alive = process_alive(name.pid, proc.pstart if proc else None)
        if not alive and name.writer not in unsettled:
            unsettled.append(name.writer)
    return Progress(behind, unsettled)


def settle(
    home: Path,
    targets: dict[str, int],
    *,
    timeout_s: float,
    on_wait: Callable[[int], None] = lambda pid: None,
) -> str | None:
    """Get ``targets`` ingested (see the module docstring); None when done, else why not.

    ``on_wait(pid)`` is called once, when a running collector is found and waited for.
    """
    deadline = time.monotonic() + timeout_s
    waited_for: int | None = None
    while True:
        holder = lock_holder(home)
        if holder is None:
            problem = drain_once(home)
            if problem is None:
                return None
            holder = lock_holder(home)
            if holder is None:
                return problem  # a real failure, not a collector that started meanwhile
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
