"""``orca status``: what a person checks first — is the collector running, is it keeping up."""

from dataclasses import asdict
from pathlib import Path
from typing import Final

import click

from orca._table import Column, text_table
from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.collector import Status, collector_status

SEGMENT_COLUMNS: Final = (
    Column("pid", right=True),
    Column("writer"),
    *(Column(title, right=True) for title in ("bytes", "lag", "records", "quarantined")),
    Column("segment"),
)

QUARANTINE_COLUMNS: Final = (
    Column("file"),
    Column("offset", right=True),
    Column("reason"),
    Column("first bytes"),
)


def _as_dict(status: Status) -> dict[str, object]:
    t = status.totals
    led = status.ledger
    return {
        "home": status.home,
        "collector": {
            "running": status.collector_pid is not None,
            "pid": status.collector_pid,
            "note": status.collector_note,
        },
        "lag_bytes": status.lag_bytes,
        "journal_bytes": status.journal_bytes,
        "journal_pending_deletion_bytes": status.journal_pending_bytes,
        "writer_drops": status.writer_drops,
        "segments": [
            {
                "segment": s.segment,
                "pid": s.pid,
                "writer": s.state,
                "bytes": s.bytes,
                "ingested_bytes": s.ingested_bytes,
                "lag_bytes": s.lag_bytes,
                "records": s.records,
                "quarantined": s.quarantined,
                "pending_deletion": s.pending_deletion,
            }
            for s in status.segments
        ],
        "ledger": None if led is None else asdict(led),
        "store": None
        if t is None
        else {
            "url": status.store_url,
            "bytes": t.file_bytes,
            "traces": t.traces,
            "spans": t.spans,
            "logs": t.logs,
            "links": t.links,
            "quarantined": t.quarantined,
            "bodies": t.bodies,
            "body_bytes": t.body_bytes,
            "body_stored_bytes": t.body_stored_bytes,
            "body_referenced_bytes": t.body_referenced_bytes,
            "dedup_ratio": round(t.dedup_ratio, 3),
            "bodies_to_compact": t.bodies_to_compact,
            "bodies_damaged": t.bodies_damaged,
            "dictionary_after_bodies": t.dictionary_after_bodies,
        },
        "quarantine": [
            {
                "file": q.source,
                "offset": q.offset,
                "reason": q.reason,
                "preview": q.preview.decode("utf-8", "replace"),
            }
            for q in status.quarantine
        ],
    }


@click.command("status")
@home_option
@json_option
@click.option("--quarantine", "show_quarantine", is_flag=True, help="List quarantined lines.")
def status(home: Path | None, as_json: bool, show_quarantine: bool) -> None:
    """Collector, journal segments (writer alive/exited/crashed, lag), quarantine, store size."""
    root = existing_home(home)
    st = collector_status(root, quarantine_limit=None if show_quarantine else 0)
    if as_json:
        print_json(_as_dict(st))
        return
    if st.collector_pid is None:
        click.echo(f"collector: not running (start one: orca collect --home {root})")
    else:
        note = f"; {st.collector_note}" if st.collector_note else ""
        click.echo(f"collector: running (pid {st.collector_pid or 'unknown'}){note}")
    t = st.totals
    if t is None:
        click.echo(f"store: none yet at {st.store_url} (orca collect --once builds it)")
    else:
        click.echo(
            f"store: {st.store_url} {t.file_bytes:,} bytes; {t.traces:,} traces, "
            f"{t.spans:,} spans, {t.logs:,} logs; bodies {t.bodies:,} stored once "
            f"({t.body_referenced_bytes:,} → {t.body_stored_bytes:,} bytes, "
            f"de-dup ratio {t.dedup_ratio:.1f}x)"
        )
        damaged = ""
        if t.bodies_damaged:
            damaged = f"; {t.bodies_damaged:,} damaged bodies left as they were (not decodable)"
        when = "the collector recompresses them when idle"
        if t.dictionary_after_bodies is not None:
            when = (
                "compaction starts once the store has trained its zstd dictionary,"
                f" after {t.dictionary_after_bodies:,} bodies"
            )
        if t.bodies_to_compact or t.bodies_damaged:  # (PostgreSQL stores do not compact)
            click.echo(f"compaction: {t.bodies_to_compact:,} bodies awaiting ({when}){damaged}")
    if st.segments:
        cells = [
            (
                str(s.pid),
                s.state,
                f"{s.bytes:,}",
                f"{s.lag_bytes:,}",
                f"{s.records:,}",
                str(s.quarantined),
                s.segment,
            )
            for s in st.segments
        ]
        click.echo(text_table(SEGMENT_COLUMNS, cells), nl=False)
        click.echo(
            f"journal: {st.journal_bytes:,} bytes; {st.journal_pending_bytes:,} bytes already "
            "stored, pending deletion (10 min after a clean exit, a day after a crash)"
        )
    else:
        click.echo("journal: no segments")
    if st.ledger is not None:
        led = st.ledger
        damage = ""
        if led.quarantined:
            damage = f"; {led.quarantined} damage report(s): run `orca verify`"
        click.echo(
            f"ledger: {led.entries:,} entries mirrored, {led.bytes:,} bytes, "
            f"lag {led.lag_bytes:,} bytes{damage}"
        )
    bad = t.quarantined if t else 0
    hint = "" if show_quarantine or not bad else " (orca status --quarantine lists them)"
    click.echo(
        f"lag: {st.lag_bytes:,} bytes; quarantined lines: {bad}{hint}; "
        f"writer drops: {st.writer_drops}"
    )
    if show_quarantine and st.quarantine:
        lines = [
            (q.source, str(q.offset), q.reason, repr(q.preview.decode("utf-8", "replace")))
            for q in st.quarantine
        ]
        click.echo(text_table(QUARANTINE_COLUMNS, lines), nl=False)
