"""``orca verify``: re-read the ledger and name every entry that does not hold."""

from pathlib import Path

import click

from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.cli._options import entry_id
from orca.ledger import verify as verify_ledger


@click.command("verify")
@home_option
@click.option("--from", "from_id", type=entry_id(), default=1, help="Check entries from this id.")
@json_option
def verify(home: Path | None, from_id: int, as_json: bool) -> None:
    """Verify the ledger's chain, signatures and checkpoints; exit 0 only when all hold.

    Problems: modified, gap, reordered, truncated-after-checkpoint,
    bad-signature, unknown-key, torn-tail (a crash's tail; opening the ledger
    repairs it).
    """
    report = verify_ledger(existing_home(home), from_id=from_id)
    if as_json:
        print_json(report.to_dict())
    else:
        for p in report.problems:
            click.echo(p.line())
        if report.more_problems:
            click.echo(f"… and {report.more_problems} more problems")
        for eid in report.repaired:
            click.echo(f"note: entry {eid} records a repair made when the ledger was opened")
        state = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
        extra = " (a writer is mid-batch)" if report.pending_tail else ""
        click.echo(
            f"ledger {state}: {report.entries} entries, {report.batches} signed batches, "
            f"{report.checkpoints} checkpoints, {report.erased} erased payloads{extra}"
        )
    if not report.ok:
        raise SystemExit(1)
