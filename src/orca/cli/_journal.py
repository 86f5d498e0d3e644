"""``orca journal``: look at raw journal segments (before, or without, a collector)."""

from pathlib import Path
from typing import Final

import click

from orca._table import Column, text_table
from orca.cli._common import existing_home, fail, home_option, json_option, print_json
from orca.journal import JournalReader, list_segments, process_alive

SEGMENT_COLUMNS: Final = (
    Column("segment"),
    *(Column(title, right=True) for title in ("pid", "bytes", "records", "invalid", "torn")),
    Column("writer"),
)


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
                    else "crashed"
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
    # Never cut a segment name: `orca journal cat` needs it (or a unique prefix of it).
    keys = ("segment", "pid", "bytes", "records", "invalid", "torn_bytes", "writer")
    cells = [tuple(str(r[k]) for k in keys) for r in rows]
    click.echo(text_table(SEGMENT_COLUMNS, cells), nl=False)


@journal.command("cat")
@home_option
@click.argument("segment", required=False)
@click.option("--raw", is_flag=True, help="Every line as stored, invalid and torn ones too.")
@json_option
def cat(home: Path | None, segment: str | None, raw: bool, as_json: bool) -> None:
    """Print the valid records of one segment (a name or unique prefix) or of all of them.

    Invalid lines are skipped (counted on stderr); ``--raw`` prints every
    line as stored, with undecodable bytes replaced.
    """
    root = existing_home(home)
    paths = [path for _, path in list_segments(root / "journal")]
    if segment:
        paths = [p for p in paths if p.name.startswith(segment)]
        if not paths:
            fail(f"no journal segment {segment!r}; `orca journal ls` lists them")
        if len(paths) > 1 and not any(p.name == segment for p in paths):
            names = ", ".join(p.name for p in paths[:3])
            fail(f"segment prefix {segment!r} is ambiguous ({names}…); type more of it")
        paths = [p for p in paths if p.name == segment] or paths
    skipped = 0
    records: list[object] = []
    for path in paths:
        with path.open("rb") as f:
            reader = JournalReader(f)
            if raw:
                for line in reader.lines():
                    click.echo(line.data.decode("utf-8", "replace"))
                continue
            for parsed in reader.records():
                if parsed.record is None:
                    skipped += 1
                elif as_json:
                    records.append(parsed.record)
                else:
                    click.echo(parsed.line.data.decode("utf-8"))
    if as_json and not raw:
        print_json({"records": records, "skipped": skipped})
    elif skipped:
        click.echo(f"orca: skipped {skipped} invalid line(s); --raw shows them", err=True)
