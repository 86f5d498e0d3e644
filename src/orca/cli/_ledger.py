"""``orca ledger``: append, look at, prove and erase governed actions in the ledger."""

from pathlib import Path
from typing import Any

import click
import orjson

from orca.cli._common import (
    existing_home,
    fail,
    home_option,
    json_option,
    print_json,
    writable_home,
)
from orca.cli._options import count, entry_id
from orca.ledger import (
    Action,
    Ledger,
    inspect_line,
    prove_consistency,
    prove_inclusion,
    read_checkpoints,
    read_entries,
)


def _json_arg(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        fail(f"--{name} is not valid JSON: {exc}")


@click.group("ledger")
def ledger() -> None:
    """The ledger: durable, hash-chained, signed governed actions."""


@ledger.command("append")
@click.argument("kind")
@click.option("--actor", default=None, help="Who acted (agent, service, person).")
@click.option("--run", "run", default=None, help="Run id the action belongs to.")
@click.option("--trace", default=None, help="Trace id (32 hex).")
@click.option("--span", default=None, help="Span id (16 hex).")
@click.option("--args", "args", default=None, help="Arguments, as JSON.")
@click.option("--result", default=None, help="Result, as JSON.")
@click.option("--meta", default=None, help="Metadata, as JSON.")
@home_option
@json_option
def append(
    kind: str,
    actor: str | None,
    run: str | None,
    trace: str | None,
    span: str | None,
    args: str | None,
    result: str | None,
    meta: str | None,
    home: Path | None,
    as_json: bool,
) -> None:
    """Append one action (durably) and print its id and hash."""
    action = Action(
        kind=kind,
        actor=actor,
        run=run,
        trace=trace,
        span=span,
        args=_json_arg("args", args),
        result=_json_arg("result", result),
        meta=_json_arg("meta", meta),
    )
    with Ledger.open(writable_home(home, create=True)) as led:
        entry = led.append(action)
    if as_json:
        print_json(entry.to_dict())
    else:
        click.echo(f"{entry.id} {entry.hash}")


@ledger.command("tail")
@click.option("-n", "count", type=count(0), default=20, show_default=True)
@home_option
@json_option
def tail(count: int, home: Path | None, as_json: bool) -> None:
    """The last N signed entries."""
    entries = read_entries(existing_home(home)).entries[-count:] if count else []
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    for e in entries:
        click.echo(inspect_line(e))


@ledger.command("checkpoint")
@home_option
@json_option
def checkpoint(home: Path | None, as_json: bool) -> None:
    """Write a signed checkpoint covering every entry now (closing the ledger does too)."""
    with Ledger.open(writable_home(home)) as led:
        ckpt = led.checkpoint()
    ckpts, _ = read_checkpoints(existing_home(home))
    latest = ckpt or (ckpts[-1] if ckpts else None)
    if latest is None:
        fail("the ledger is empty: nothing to checkpoint")
    if as_json:
        print_json(latest.to_dict())
    else:
        click.echo(f"checkpoint size={latest.size} root={latest.root} key={latest.key}")


@ledger.command("checkpoints")
@home_option
@json_option
def checkpoints(home: Path | None, as_json: bool) -> None:
    """List the checkpoint log (signatures are checked by `orca verify`)."""
    ckpts, bad = read_checkpoints(existing_home(home))
    if as_json:
        print_json({"checkpoints": [c.to_dict() for c in ckpts], "unreadable": bad})
        return
    for c in ckpts:
        click.echo(f"size={c.size} root={c.root} key={c.key} ts={c.ts}")
    if bad:
        click.echo(f"{bad} unreadable line(s): run `orca verify`", err=True)


@ledger.command("prove")
@click.argument("entry_id", type=entry_id())
@home_option
@json_option
def prove(entry_id: int, home: Path | None, as_json: bool) -> None:
    """Inclusion proof of entry ID against the latest signed checkpoint."""
    proof = prove_inclusion(existing_home(home), entry_id)
    if as_json:
        print_json(proof.to_dict())
        return
    c = proof.checkpoint
    click.echo(f"entry {entry_id} is leaf {proof.index} of the tree of size {c.size}")
    click.echo(f"root   {c.root}  (checkpoint signed by key {c.key})")
    click.echo(f"leaf   {proof.leaf_hash}")
    for i, h in enumerate(proof.path):
        click.echo(f"path[{i}] {h}")
    click.echo("verified: yes" if proof.verify() else "verified: NO")


@ledger.command("consistency")
@click.argument("old", type=entry_id())
@click.argument("new", type=entry_id())
@home_option
@json_option
def consistency(old: int, new: int, home: Path | None, as_json: bool) -> None:
    """Prove the checkpoint of tree size NEW extends the one of size OLD (exit 1 if not)."""
    proof = prove_consistency(existing_home(home), old, new)
    ok = proof.verify()
    if as_json:
        print_json(proof.to_dict())
    else:
        click.echo(f"old size={old} root={proof.old.root}")
        click.echo(f"new size={new} root={proof.new.root}")
        for i, h in enumerate(proof.path):
            click.echo(f"path[{i}] {h}")
        click.echo("consistent: yes" if ok else "consistent: NO (an old entry was rewritten)")
    if not ok:
        raise SystemExit(1)


@ledger.command("forget")
@click.argument("entry_id", type=entry_id())
@home_option
@json_option
def forget(entry_id: int, home: Path | None, as_json: bool) -> None:
    """Erase one entry's payload (GDPR); the chain and proofs still verify.

    A payload that went by reference loses its blob too, unless something else
    still references it.
    """
    from orca.cli._blobs import entry_blob_refs, release

    root = writable_home(home)
    refs = entry_blob_refs(root, entry_id)
    with Ledger.open(root) as led:
        erased = led.forget(entry_id)
    freed = release(root, refs)
    if as_json:
        print_json(
            {"entry": entry_id, "erased": erased, "already_erased": not erased, "blobs": freed}
        )
        return
    click.echo(
        (f"entry {entry_id}: payload erased" if erased else f"entry {entry_id}: already erased")
        + (f"; {freed} blob(s) deleted" if freed else "")
    )


@ledger.command("rotate-key")
@home_option
@json_option
def rotate_key(home: Path | None, as_json: bool) -> None:
    """Sign with a new key from now on; old public keys stay trusted."""
    with Ledger.open(writable_home(home)) as led:
        kid = led.rotate_key()
    if as_json:
        print_json({"key": kid})
    else:
        click.echo(f"active key {kid}")
