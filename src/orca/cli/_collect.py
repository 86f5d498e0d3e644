"""``orca collect``: run the collector for a home (forever, or ``--once`` to drain and exit)."""

import signal
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click

from orca.cli._common import home_option, json_option, print_json, writable_home
from orca.cli._options import WAIT, age_option, count_option, seconds
from orca.collector import DEFAULT_JOURNAL_GRACE, Collector, CollectorConfig


class _StopLatch:
    """A stop signal caught from the command's first moment, forwarded once the collector exists.

    ``Collector.run`` installs its own handlers, but only when it starts: a stop
    arriving while the collector still opens its store (``orca up`` stopping
    right after it started) must still end in a drain, not the default kill.
    """

    def __init__(self) -> None:
        self.asked = False
        self.collector: Collector | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True
        if self.collector is not None:
            self.collector.stop()

    def attach(self, collector: Collector) -> None:
        self.collector = collector
        if self.asked:
            collector.stop()


@click.command("collect")
@home_option
@click.option("--once", is_flag=True, help="Ingest everything present, then exit 0.")
@count_option(
    "--interval-ms", 100, "Sleep between rounds when there is nothing new.", min=1, max=3_600_000
)
@count_option(
    "--batch",
    5000,
    "Records per transaction at most (a batch also closes after 250 ms).",
    min=1,
    max=10_000_000,
)
@click.option(
    "--idle-exit",
    type=WAIT,
    default=None,
    metavar="DURATION",
    help="Exit once no writer is alive and nothing arrived for this long.",
)
@age_option(
    "--journal-grace",
    DEFAULT_JOURNAL_GRACE,
    "Delete a segment this long after its writer exited cleanly and every record of it "
    "is stored (30s, 10m, 2h, none); a crashed writer's segment stays a day.",
    shown="10m",
)
@age_option(
    "--compact-every",
    "1m",
    "When idle this long since the last compaction, recompress stored bodies hard and "
    "merge the search index, a small step per idle round (30s, 10m, none: never).",
)
@click.option(
    "--drain-on-stop",
    is_flag=True,
    help="On SIGTERM/Ctrl-C, ingest everything written so far before exiting (orca up does).",
)
@json_option
def collect(
    home: Path | None,
    once: bool,
    interval_ms: int,
    batch: int,
    idle_exit: timedelta | None,
    journal_grace: timedelta | None,
    compact_every: timedelta | None,
    drain_on_stop: bool,
    as_json: bool,
) -> None:
    """Tail the home's journal and ledger into its store (`orca --store`, else the home's).

    Only one collector runs per home: a second one exits with a message naming
    the first. SIGTERM finishes the current batch and exits cleanly.
    """
    root = writable_home(home)
    config = CollectorConfig(
        batch=batch,
        interval_ms=interval_ms,
        journal_grace=journal_grace,
        compact_every_s=seconds(compact_every),
    )
    latch = _StopLatch()
    if drain_on_stop and not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, latch)
    with Collector(root, config) as collector:
        if not once:
            latch.attach(collector)
            collector.run(idle_exit_s=seconds(idle_exit))
            if drain_on_stop:
                collector.drain()
            return
        done = collector.drain()
        store_url = collector.store.url
        # What was drained is searchable when `--once` returns: readers never index.
        done.indexed += collector.store.catch_up_search()
        paused = collector.ledger.paused
    if paused:
        click.echo(f"warning: {paused}", err=True)
    if as_json:
        print_json(
            {
                "records": done.records,
                "ledger_entries": done.ledger,
                "ledger_paused": paused,
                "quarantined": done.quarantined + done.torn,
                "crashed_writers": done.crashed,
                "crash_spans": done.crash_spans,
                "deleted_segments": done.deleted_segments,
            }
        )
        return
    click.echo(
        f"ingested {done.records} records, quarantined {done.quarantined + done.torn} lines, "
        f"{len(done.crashed)} crashed writers ({done.crash_spans} crash spans), "
        f"{done.ledger} ledger entries into {store_url}"
    )
