"""Reading the ledger back: whole signed batches from a byte offset.

This is the API the collector tails with (and sinks catch up with): it hands
out only entries whose batch signature is on disk, each stamped with that
signature (its provenance), and an offset to resume from. A torn last line or
a batch still missing its signature is left for the next read, exactly as
the journal reader leaves a torn line.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from orca.journal import JournalReader
from orca.ledger._errors import LedgerCorruptError
from orca.ledger._format import (
    CKPT_PREFIX,
    MAX_LINE_BYTES,
    SIG_PREFIX,
    Checkpoint,
    Entry,
    FormatError,
    parse_ckpt,
    parse_entry,
    parse_sig,
)

LEDGER_DIR: Final = "ledger"
LEDGER_FILE: Final = "ledger.ndjson"
CHECKPOINT_FILE: Final = "checkpoints.ndjson"


def ledger_path(source: Path) -> Path:
    """The ledger file for a home, a ledger directory, or the file itself."""
    if source.is_file():
        return source
    if (source / LEDGER_FILE).exists() or source.name == LEDGER_DIR:
        return source / LEDGER_FILE
    return source / LEDGER_DIR / LEDGER_FILE


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Entries of whole signed batches, where to resume, and how many bytes wait behind it."""

    entries: list[Entry]
    next_offset: int
    pending_bytes: int


def read_entries(
    source: Path, from_offset: int = 0, *, max_entries: int | None = None
) -> ReadResult:
    """Signed entries from ``from_offset`` (a home, ledger dir or ledger file).

    Stops after the first whole batch that reaches ``max_entries``. A missing
    ledger reads as empty. A damaged line inside the signed part raises
    :class:`LedgerCorruptError` naming its offset (run ``orca verify``).
    """
    path = ledger_path(source)
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return ReadResult([], from_offset, 0)
    with f:
        reader = JournalReader(f, from_offset, max_line_bytes=MAX_LINE_BYTES)
        out: list[Entry] = []
        batch: list[Entry] = []
        next_offset = from_offset
        bad: tuple[int, str] | None = None
        for line in reader.lines():
            data = line.data
            try:
                if data.startswith(SIG_PREFIX):
                    sig = parse_sig(data)
                    if bad is not None:
                        break
                    out.extend(
                        dataclasses.replace(e, signature=sig.sig, key=sig.key) for e in batch
                    )
                    batch = []
                    next_offset = line.end
                    if max_entries is not None and len(out) >= max_entries:
                        break
                elif data.startswith(CKPT_PREFIX):
                    parse_ckpt(data)
                    if not batch and bad is None:
                        next_offset = line.end
                elif bad is None:
                    batch.append(parse_entry(data, line.offset)[0])
            except FormatError as exc:
                bad = bad or (line.offset, str(exc))
                if data.startswith(SIG_PREFIX):
                    break
        if bad is not None and _signed_after(path, bad[0]):
            # A damaged line with a signature after it is damage, not a crash's torn tail.
            raise LedgerCorruptError(
                f"{path} at offset {bad[0]}: {bad[1]}; run `orca verify` to locate the damage"
            )
        size = path.stat().st_size
        return ReadResult(out, next_offset, size - next_offset)


def _signed_after(path: Path, offset: int) -> bool:
    """True when a batch signature line follows ``offset`` (crash garbage has none after it)."""
    with path.open("rb") as f:
        for line in JournalReader(f, offset, max_line_bytes=MAX_LINE_BYTES).lines():
            if line.data.startswith(SIG_PREFIX) and line.offset > offset:
                return True
    return False


def read_checkpoints(source: Path) -> tuple[list[Checkpoint], int]:
    """Every well-formed checkpoint in ``checkpoints.ndjson`` and the count of bad lines.

    Signatures are not checked here; callers that rely on a checkpoint verify it.
    """
    path = ledger_path(source).with_name(CHECKPOINT_FILE)
    out: list[Checkpoint] = []
    bad = 0
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return out, 0
    with f:
        for line in JournalReader(f, max_line_bytes=MAX_LINE_BYTES).lines():
            try:
                out.append(parse_ckpt(line.data))
            except FormatError:
                bad += 1
    return out, bad


def iter_hashes(path: Path) -> tuple[list[int], list[str]]:
    """Ids and hashes of every signed entry, in file order (the tree's leaves), fast.

    Used by proofs: it trusts the stored hashes (``orca verify`` checks them).
    """
    ids: list[int] = []
    hashes: list[str] = []
    pending_ids: list[int] = []
    pending_h: list[str] = []
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return ids, hashes
    with f:
        for line in JournalReader(f, max_line_bytes=MAX_LINE_BYTES).lines():
            data = line.data
            if data.startswith(SIG_PREFIX):
                ids.extend(pending_ids)
                hashes.extend(pending_h)
                pending_ids, pending_h = [], []
            elif data.startswith(CKPT_PREFIX):
                continue
            else:
                try:
                    entry = parse_entry(data, line.offset)[0]
                except FormatError as exc:
                    raise LedgerCorruptError(
                        f"{path} at offset {line.offset}: {exc}; run `orca verify`"
                    ) from None
                pending_ids.append(entry.id)
                pending_h.append(entry.hash)
    return ids, hashes
