"""``orca runs``: orchestrated runs read back from the ledger (no orchestrator, no collector)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click

from orca._table import Column, text_table
from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.cli._options import count, entry_id

RUN_COLUMNS: Final = (
    *(Column(title, width) for title, width in (("RUN", 22), ("WORKFLOW", 14), ("STATUS", 9))),
    # counts: as wide as their titles
    *(Column(t, right=True) for t in ("TASKS", "DONE", "DEAD", "EXP", "OPEN", "ATT", "DURATION")),
    Column("STARTED", 19, gap=2),
    Column("TOKENS", gap=2),
)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _dur(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms}ms" if ms < 1000 else f"{ms / 1000:.1f}s"


def _usage(r: Any) -> str:
    cost = f" ${r.cost_usd:.4f}" if r.cost_usd else ""
    return f"{r.input_tokens}/{r.output_tokens}{cost}"


@click.group("runs", invoke_without_command=True)
@home_option
@json_option
@click.option("--limit", type=count(1), default=50, show_default=True)
@click.pass_context
def runs(ctx: click.Context, home: Path | None, as_json: bool, limit: int) -> None:
    """Orchestrated runs, newest first: status, tasks, attempts, duration, usage."""
    if ctx.invoked_subcommand is not None:
        return
    from orca.orchestrator import list_runs

    rows = list_runs(existing_home(home), limit=limit)
    if as_json:
        print_json({"runs": [r.to_dict() for r in rows]})
        return
    if not rows:
        click.echo("no runs yet (start one with orca.orchestrator.Orchestrator.start_run)")
        return
    cells = [
        (
            r.id,
            r.workflow[:14],
            r.status,
            *map(str, (r.tasks, r.completed, r.dead_lettered, r.expired, r.unfinished, r.attempts)),
            _dur(r.duration_ms),
            _when(r.started_ms),
            _usage(r),
        )
        for r in rows
    ]
    click.echo(text_table(RUN_COLUMNS, cells), nl=False)


@runs.command("show")
@click.argument("run_ref", metavar="RUN")
@home_option
@json_option
def show(run_ref: str, home: Path | None, as_json: bool) -> None:
    """One run: its tasks with their attempts and outcomes, dead letters, rejections, usage."""
    from orca.orchestrator import run_governance, show_run

    path = existing_home(home)
    d = show_run(path, run_ref)
    gov = run_governance(path, d.summary.id)
    if as_json:
        print_json({**d.to_dict(), "governance": gov.to_dict()})
        return
    s = d.summary
    click.echo(f"run {s.id}  {s.workflow}  {s.status}  trace {s.trace_id}")
    click.echo(
        f"  started {_when(s.started_ms)}  duration {_dur(s.duration_ms)}  tasks {s.tasks}  "
        f"attempts {s.attempts}  tokens {_usage(s)}"
    )
    for t in d.tasks:
        mark = {"completed": "ok", "dead_lettered": "☠", "expired": "⌛", "cancelled": "✖"}
        click.echo(f"  {mark.get(t.status, '…'):<2} {t.id}  {t.sender} → {t.recipient}  {t.status}")
        for a in t.attempts:
            hb = f"  {a.heartbeats} heartbeats" if a.heartbeats else ""
            click.echo(
                f"       attempt {a.attempt} by {a.agent}: {a.outcome or 'running'} "
                f"({_dur(None if a.ended_ms is None else a.ended_ms - a.claimed_ms)}){hb}"
            )
        if t.error and t.status != "completed":
            click.echo(f"       error: {t.error}")
    dead = [t for t in d.tasks if t.status == "dead_lettered"]
    click.echo(f"  dead letters: {', '.join(t.id for t in dead) if dead else 'none'}")
    for r in d.rejections:
        click.echo(f"  rejected {r.get('envelope')}: {r.get('code')} — {r.get('reason')}")
    if d.result is not None:
        click.echo(
            f"  result ({d.result['kind']} from {d.result['sender']}): {d.result.get('payload')}"
        )
    _print_governance(gov)


def _print_governance(gov: Any) -> None:
    """Usage against budget per scope, then every policy and budget intervention."""
    click.echo("  budget:" + ("" if gov.budget else " none (unlimited)"))
    for u in gov.usage:
        limit = "-" if u.limit is None else f"{u.limit:g}"
        pct = f" {u.used / u.limit:6.1%}" if u.limit else ""
        held = f" (+{u.reserved:g} reserved)" if u.reserved else ""
        click.echo(f"    {u.scope:<20} {u.dimension:<14} {u.used:>12g} / {limit:<10}{pct}{held}")
    click.echo(f"  interventions: {len(gov.interventions) or 'none'}")
    for i in gov.interventions:
        if i["kind"] == "policy.decision":
            what = (
                f"{i.get('action')} by {i.get('rule') or '-'} ({', '.join(i.get('reasons', []))})"
            )
        elif i["kind"] == "budget.warning":
            what = str(i.get("message"))
        else:
            what = f"{i.get('scope')} {i.get('dimension')} would reach {i.get('would_be')}"
        click.echo(f"    #{i['entry']} {i['kind']}: {what}")


@runs.command("events")
@click.argument("run_ref", metavar="RUN")
@home_option
@json_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new entries until the run ends.")
@click.option("--from", "start", type=entry_id(), default=None, help="First entry id.")
@click.option("--max", "max_events", type=count(1), default=None, help="At most N.")
def events(
    run_ref: str,
    home: Path | None,
    as_json: bool,
    follow: bool,
    start: int | None,
    max_events: int | None,
) -> None:
    """The run's ledger entries in order (JSON: one object per line); --follow tails them."""
    from orca.ledger import inspect_line
    from orca.orchestrator import run_events

    _, entries = run_events(
        existing_home(home), run_ref, start_event_id=start, max_events=max_events, follow=follow
    )
    for e in entries:
        if as_json:
            click.echo(_json_line(e.to_dict()))
        else:
            click.echo(inspect_line(e))


def _json_line(doc: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(doc, default=str).decode()
