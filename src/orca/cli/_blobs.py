"""``orca blobs ls|verify|gc|rotate-key``: the home's blob store, seen and kept in order.

Thin: each command is one call into :mod:`orca.blobs` (and the store, for
the references ``gc`` must keep). ``verify`` exits 1 when it finds damage,
which it reports and never repairs.
"""

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orca.cli._common import existing_home, fail, home_option, json_option, print_json
from orca.cli._options import age_option, count
from orca.cli._render import progress_bar

if TYPE_CHECKING:
    from orca.blobs import BlobStore


def _store(home: Path | None) -> "BlobStore":
    from orca.blobs import BlobStore

    return BlobStore.open(existing_home(home), create=False)


@click.group("blobs")
def blobs() -> None:
    """The blob store: large bodies and payloads, compressed and encrypted at rest."""


@blobs.command("ls")
@home_option
@json_option
def ls(home: Path | None, as_json: bool) -> None:
    """List stored blobs: address, size, bytes on disk, key id."""
    infos = list(_store(home).ls())
    if as_json:
        print_json([info._asdict() for info in infos])
        return
    for i in infos:
        size = "?" if i.size is None else f"{i.size:,}"
        what = i.problem or f"key {i.key_id}"
        click.echo(f"{i.sha256}  {size:>15} bytes  {i.stored_bytes:>13,} on disk  {what}")
    stored = sum(i.stored_bytes for i in infos)
    click.echo(f"{len(infos)} blobs, {stored:,} bytes on disk")


@blobs.command("verify")
@home_option
@json_option
@click.argument("addresses", nargs=-1, metavar="[SHA256...]")
def verify(home: Path | None, as_json: bool, addresses: tuple[str, ...]) -> None:
    """Read every blob (or the given ones) through all checks; exit 1 if any is damaged."""
    from orca.blobs import BlobIntegrityError, BlobNotFound

    store = _store(home)
    shas = list(addresses) or [i.sha256 for i in store.ls()]
    damaged: list[dict[str, str]] = []
    with progress_bar("verifying", quiet=as_json) as report:
        for n, sha in enumerate(shas, 1):
            try:
                store.verify(sha)
            except BlobIntegrityError as exc:
                damaged.append({"sha256": exc.sha256, "problem": exc.problem, "detail": exc.detail})
            except BlobNotFound:
                damaged.append({"sha256": sha, "problem": "missing", "detail": "no such blob"})
            if report is not None:
                report(n, len(shas))
    if as_json:
        print_json({"checked": len(shas), "damaged": damaged})
    else:
        for d in damaged:
            click.echo(f"DAMAGED {d['sha256']}: {d['problem']}: {d['detail']}")
        click.echo(f"checked {len(shas)} blobs: {len(damaged) or 'none'} damaged")
    if damaged:
        sys.exit(1)


def _references(root: Path) -> set[str]:
    """Every blob the store's bodies or a (not erased) ledger payload points at."""
    from orca.blobs import refs_in
    from orca.ledger import ledger_path, read_entries
    from orca.store import locate_store, open_store, store_exists

    has_store = store_exists(locate_store(root))
    has_ledger = ledger_path(root).exists()
    if not (has_store or has_ledger):
        fail(f"no store or ledger in {root}; gc needs them to know which blobs are referenced")
    referenced: set[str] = set()
    if has_store:
        with open_store(root) as traces:
            referenced |= traces.blob_references()
    offset = 0
    while has_ledger:
        batch = read_entries(root, offset, max_entries=10_000)
        for entry in batch.entries:
            if not entry.erased:
                found = refs_in([entry.args, entry.result, entry.meta])
                referenced.update(a.sha256 for a in found)
        if batch.next_offset == offset:
            break
        offset = batch.next_offset
    return referenced


def entry_blob_refs(root: Path, entry_id: int) -> set[str]:
    """The blobs ledger entry ``entry_id``'s payload references (read before ``forget``)."""
    from orca.blobs import refs_in
    from orca.ledger import ledger_path, read_entries

    if not ledger_path(root).exists() or not (root / "blobs").is_dir():
        return set()
    offset = 0
    while True:
        batch = read_entries(root, offset, max_entries=10_000)
        for entry in batch.entries:
            if entry.id == entry_id and not entry.erased:
                return {a.sha256 for a in refs_in([entry.args, entry.result, entry.meta])}
        if batch.next_offset == offset:
            return set()
        offset = batch.next_offset


def release(root: Path, shas: set[str]) -> int:
    """Delete those of ``shas`` nothing references any more (after a ``forget``); how many."""
    if not shas:
        return 0
    store = _store(root)
    unreferenced = shas - _references(root)
    return sum(store.delete(sha) for sha in sorted(unreferenced))


@blobs.command("gc")
@home_option
@json_option
@age_option(
    "--grace",
    "10m",
    "Spare unreferenced blobs younger than AGE (a put whose reference is not committed).",
)
def gc(home: Path | None, as_json: bool, grace: timedelta | None) -> None:
    """Delete blobs nothing references (store bodies, ledger payloads), and dead temp files."""
    root = existing_home(home)
    age = grace
    store = _store(root)
    referenced = _references(root)
    with progress_bar("collecting", quiet=as_json) as report:
        result = store.gc(
            referenced,
            grace_s=0.0 if age is None else age.total_seconds(),
            progress=report,
        )
    if as_json:
        print_json(result._asdict())
        return
    click.echo(
        f"removed {result.removed} blobs ({result.bytes_freed:,} bytes) and "
        f"{result.temps_removed} abandoned temp files; kept {result.kept} referenced, "
        f"{result.spared_young} unreferenced but younger than {grace}"
    )


@blobs.command("rotate-key")
@home_option
@json_option
@click.option("--resume", is_flag=True, help="Keep the current key; re-seal what is left.")
@click.option(
    "--limit",
    type=count(0),
    default=None,
    help="Re-seal at most N blobs now (the rest stay readable under their old key).",
)
def rotate_key(home: Path | None, as_json: bool, resume: bool, limit: int | None) -> None:
    """Make a new master key current, re-seal blobs under it, retire keys no blob names."""
    store = _store(home)
    if not resume:
        store.rotate_key()
    with progress_bar("re-sealing", quiet=as_json) as report:
        result = store.reencrypt(limit=limit, progress=report)
    if as_json:
        print_json(result._asdict())
        return
    click.echo(
        f"current key {result.key_id}: re-sealed {result.reencrypted} blobs, "
        f"{result.remaining} left (run again with --resume), "
        f"retired {len(result.retired)} old keys"
    )
