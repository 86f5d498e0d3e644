"""Reading a run's ledger entries in order, and tailing them while the run goes on."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from orca.ledger import Entry, read_entries


def read_run_entries(
    ledger_file: Path,
    run: str,
    *,
    offset: int = 0,
    start_event_id: int | None = None,
    since: int | None = None,
    max_events: int | None = None,
    follow: bool = False,
    ended: Callable[[], bool] = lambda: True,
    poll_s: float = 0.05,
) -> Iterator[Entry]:
    """Entries of ``run`` from byte ``offset`` on, id ≥ ``start_event_id``, ts ≥ ``since`` (ns).

    With ``follow`` the iterator keeps reading new batches (every ``poll_s``
    seconds) until ``ended()`` is true and everything up to then was read.
    """
    if max_events is not None and max_events <= 0:
        return
    sent = 0
    while True:
        done = ended()  # decided before reading, so the final entries are read after it
        result = read_entries(ledger_file, offset)
        offset = result.next_offset
        for e in result.entries:
            if e.run != run:
                continue
            if start_event_id is not None and e.id < start_event_id:
                continue
            if since is not None and e.ts < since:
                continue
            yield e
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if not follow or done:
            return
        time.sleep(poll_s)
