"""Opening an existing ledger: find its head, truncate a crash's tail, repair the checkpoint log.

A batch is acknowledged only after its entries *and* its signature line are
fsync'd in one write, so anything after the last signature line (a torn line,
or whole, well-formed entries whose batch never finished) was never
acknowledged: recovery truncates it. A *complete* line that does not parse or
verify is damage, not a crash, wherever it lies: opening refuses, and
``orca verify`` says where. Every repair opening does make is listed in
``Head.repairs`` so the ledger can report it and record it as an entry.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from orca.journal import JournalReader
from orca.ledger import merkle
from orca.ledger._errors import LedgerCorruptError
from orca.ledger._format import (
    CKPT_PREFIX,
    GENESIS,
    MAX_LINE_BYTES,
    SIG_PREFIX,
    BatchSig,
    Checkpoint,
    FormatError,
    encode_ckpt,
    parse_ckpt,
    parse_sig,
    sha256_hex,
    split_entry,
)
from orca.ledger._keys import TrustedKeys


@dataclass
class Head:
    """What appending needs to continue a ledger: the last signed entry and the tree so far."""

    last_id: int = 0
    last_hash: str = GENESIS
    last_ts: int = 0
    acc: merkle.Accumulator = field(default_factory=merkle.Accumulator)
    size_bytes: int = 0
    last_sig: BatchSig | None = None
    last_ckpt_size: int = 0
    ledger_ckpts: list[Checkpoint] = field(default_factory=list)
    truncated_bytes: int = 0
    repairs: list[str] = field(default_factory=list)
    unsigned: list[int] = field(default_factory=list)  # ids of whole entries with no signature
    last_entry_offset: int = 0  # where the last signed entry's line starts


def scan(path: Path) -> Head:
    """Read the whole ledger file once (hashes only, no payload work) and find its head."""
    head = Head()
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return head
    pending: list[tuple[int, str, int, str, bytes, int]] = []  # id, hash, ts, prev, header, at
    bad: tuple[int, str] | None = None
    last_header = b""
    with f:
        for line in JournalReader(f, max_line_bytes=MAX_LINE_BYTES).lines():
            data = line.data
            try:
                if data.startswith(SIG_PREFIX):
                    sig = parse_sig(data)
                    if bad is not None:
                        raise LedgerCorruptError(
                            f"{path} at offset {bad[0]}: {bad[1]}; "
                            "this is damage, not a crash: run `orca verify`"
                        )
                    if not pending or sig.upto != pending[-1][0] or sig.hash != pending[-1][1]:
                        raise FormatError("signature does not name the last entry of its batch")
                    for _, h, _, _, _, _ in pending:
                        head.acc.push(merkle.leaf_hash(bytes.fromhex(h)))
                    head.last_id, head.last_hash, head.last_ts = pending[-1][:3]
                    last_header = pending[-1][4]
                    head.last_entry_offset = pending[-1][5]
                    head.last_sig = sig
                    head.size_bytes = line.end
                    pending = []
                elif data.startswith(CKPT_PREFIX):
                    ckpt = parse_ckpt(data)
                    if bad is None and not pending:
                        head.ledger_ckpts.append(ckpt)
                        head.size_bytes = line.end
                elif bad is None:
                    header, h, _ = split_entry(data)
                    if sha256_hex(header) != h:
                        raise FormatError("entry bytes do not match its hash")
                    d = orjson.loads(header + b"}")
                    prev_id, prev_h = (
                        (pending[-1][0], pending[-1][1])
                        if pending
                        else (head.last_id, head.last_hash)
                    )
                    if d["id"] != prev_id + 1 or d["prev"] != prev_h:
                        raise FormatError(f"entry {d['id']} does not follow entry {prev_id}")
                    pending.append((d["id"], h, d["ts"], d["prev"], header, line.offset))
            except (FormatError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
                if data.startswith(SIG_PREFIX) and bad is None:
                    bad = (line.offset, f"bad signature line: {exc}")
                bad = bad or (line.offset, str(exc))
    if bad is not None:
        raise LedgerCorruptError(
            f"{path} at offset {bad[0]}: {bad[1]}; a complete line that does not verify is "
            "damage, not a crash: run `orca verify`"
        )
    head.unsigned = [p[0] for p in pending]
    if head.last_sig is not None and sha256_hex(last_header) != head.last_hash:
        raise LedgerCorruptError(
            f"{path}: the last signed entry {head.last_id} does not match its hash; "
            "run `orca verify`"
        )
    return head


def check_head(path: Path, head: Head, trusted: TrustedKeys) -> None:
    """Refuse to extend a head whose signature does not verify."""
    sig = head.last_sig
    if sig is None:
        return
    if sig.key not in trusted or not trusted.verify(sig.key, sig.sig, sig.message()):
        raise LedgerCorruptError(
            f"{path}: the signature over entry {sig.upto} does not verify with a known key; "
            "run `orca verify`"
        )


def truncate_tail(path: Path, head: Head) -> None:
    """Cut off what no caller was told is durable (torn line, unsigned batch)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size > head.size_bytes:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, head.size_bytes)
            os.fsync(fd)
        finally:
            os.close(fd)
        head.truncated_bytes = size - head.size_bytes
        what = (
            f"entries {head.unsigned[0]}..{head.unsigned[-1]} whose batch was never signed"
            if head.unsigned
            else "a torn last line"
        )
        head.repairs.append(
            f"truncated {head.truncated_bytes} bytes of {path.name} after entry {head.last_id} "
            f"({what}; never acknowledged)"
        )


def repair_checkpoint_log(ckpt_path: Path, head: Head) -> None:
    """Truncate a torn checkpoint-log tail; re-append checkpoints a crash kept from it.

    A checkpoint log that claims more entries than the ledger holds means
    acknowledged entries are gone: that is refused, not repaired.
    """
    good_end = 0
    logged: list[Checkpoint] = []
    try:
        with ckpt_path.open("rb") as f:
            for line in JournalReader(f, max_line_bytes=MAX_LINE_BYTES).lines():
                try:
                    logged.append(parse_ckpt(line.data))
                except FormatError as exc:
                    raise LedgerCorruptError(
                        f"{ckpt_path} at offset {line.offset}: {exc}; run `orca verify`"
                    ) from None
                good_end = line.end
        size = ckpt_path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size > good_end:
        os.truncate(ckpt_path, good_end)
        head.repairs.append(
            f"truncated a torn last line ({size - good_end} bytes) of {ckpt_path.name}"
        )
    if logged and logged[-1].size > head.last_id:
        raise LedgerCorruptError(
            f"{ckpt_path}: checkpoint at size {logged[-1].size} but the ledger ends at entry "
            f"{head.last_id}: acknowledged entries are missing; run `orca verify`"
        )
    known = {encode_ckpt(c) for c in logged}
    missing = [c for c in head.ledger_ckpts if encode_ckpt(c) not in known]
    if missing:
        fd = os.open(ckpt_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"".join(encode_ckpt(c) + b"\n" for c in missing))
            os.fsync(fd)
        finally:
            os.close(fd)
        sizes = ", ".join(str(c.size) for c in missing)
        head.repairs.append(
            f"re-appended {len(missing)} checkpoint(s) (tree sizes {sizes}) missing from "
            f"{ckpt_path.name}, copied from the ledger file"
        )
    head.last_ckpt_size = max([c.size for c in head.ledger_ckpts] + [0])
