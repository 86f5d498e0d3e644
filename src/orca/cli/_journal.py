"""``orca journal``: look at raw journal segments (before, or without, a collector)."""

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.journal import JournalReader, list_segments, process_alive


@click.group("journal")
def journal() -> None:
    """Raw journal segments: what writers appended, line by line."""


@journal.command("ls")
@home_option
@json_option
def ls(home: Path | None, as_json: bool) -> None:
    """List segments with their writer, size, record count and whether the writer lives."""
    root = existing_home(home)
    rows: list[dict[str, object]] = []
    for name, path in list_segments(root / "journal"):
        with path.open("rb") as f:
            reader = JournalReader(f)
            good = bad = 0
            first = None
            exited = False
            for parsed in reader.records():
                if parsed.record is None:
                    bad += 1
                    continue
                good += 1
                rec = parsed.record
                if rec["kind"] == "proc":
                    first = first or rec
                    exited = exited or rec["event"] == "exit"
            pstart = first.get("pstart") if first else None
            state = (
                "exited"
                if exited
                else (
                    "alive"
                    if process_alive(name.pid, pstart if isinstance(pstart, int) else None)
                    else "dead"
                )
            )
            rows.append(
                {
                    "segment": path.name,
                    "pid": name.pid,
                    "seq": name.seq,
                    "bytes": path.stat().st_size,
                    "records": good,
                    "invalid": bad,
                    "torn_bytes": reader.pending,
                    "writer": state,
                }
            )
    if as_json:
        print_json(rows)
        return
    table = Table("segment", "pid", "bytes", "records", "invalid", "torn", "writer")
    for r in rows:
        table.add_row(
            str(r["segment"]),
            str(r["pid"]),
            str(r["bytes"]),
            str(r["records"]),
            str(r["invalid"]),
            str(r["torn_bytes"]),
            str(r["writer"]),
        )
    Console().print(table)


@journal.command("cat")
@home_option
@click.argument("segment", required=False)
def cat(home: Path | None, segment: str | None) -> None:
    """Print the valid records of one segment (or all), one JSON line each."""
    root = existing_home(home)
    for _, path in list_segments(root / "journal"):
        if segment and path.name != segment:
            continue
        with path.open("rb") as f:
            for line in JournalReader(f).lines():
                click.echo(line.data.decode("utf-8", "replace"))
