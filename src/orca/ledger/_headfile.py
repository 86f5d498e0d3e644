"""The ledger's head, saved at a clean close so the next open need not re-hash the file.

Appending continues from the head: the last signed entry (id, hash, time), the
Merkle accumulator and the byte offset where the file ends. Finding it by
scanning hashes every entry (seconds for a few hundred thousand), and the
orchestrator opens the ledger on every restart. So :meth:`Ledger.close` writes
``ledger/head.json`` (temp file, fsync, rename, directory fsync) naming the
head and the identity of the ledger file and the checkpoint log (device,
inode, size, mtime, ctime). The next open trusts it only when

* both files are exactly as they were at close: any write since — a crash's
  appends, a restore, an edit — changes the size or ctime, which no user call
  can set back; and
* the tail verifies: the last entry line hashes to the saved hash and id, and
  the signature line after it names that entry (its signature is checked
  against the trusted keys, as after a scan).

Anything else is a mismatch: opening says so on stderr and re-hashes the whole
ledger (damage is then reported by the scan, never repaired silently). Opening
removes the file first, so a ledger that crashes while open has no head file
that could look current. What the fast path does not do is re-check entries
before the tail; ``orca verify`` does that, as it always did.
"""

import sys
from pathlib import Path
from typing import Any, Final

import orjson

from orca.journal import JournalReader
from orca.ledger import merkle
from orca.ledger._format import (
    CKPT_PREFIX,
    MAX_LINE_BYTES,
    BatchSig,
    FormatError,
    parse_ckpt,
    parse_sig,
    sha256_hex,
    split_entry,
)
from orca.ledger._keys import _write_new
from orca.ledger._recover import Head

HEAD_FILE: Final = "head.json"
VERSION: Final = 1


def _identity(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def save_head(directory: Path, ledger: Path, checkpoints: Path, head: Head) -> None:
    """Write ``head`` (as of a clean close) with the two files' identities, durably."""
    sig = head.last_sig
    doc = {
        "v": VERSION,
        "last_id": head.last_id,
        "last_hash": head.last_hash,
        "last_ts": head.last_ts,
        "entry_offset": head.last_entry_offset,
        "size": head.size_bytes,
        "acc": [[w, h.hex()] for w, h in head.acc.state()],
        "ckpt_size": head.last_ckpt_size,
        "sig": None if sig is None else [sig.upto, sig.hash, sig.key, sig.sig],
        "ledger": _identity(ledger),
        "checkpoints": _identity(checkpoints),
    }
    _write_new(directory / HEAD_FILE, orjson.dumps(doc), 0o644)


def load_head(directory: Path, ledger: Path, checkpoints: Path) -> Head | None:
    """The saved head when it still describes both files, else None (a mismatch is said).

    The file is removed either way: from now on the ledger may change.
    """
    path = directory / HEAD_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _say(directory, f"cannot read {HEAD_FILE} ({exc})")
        return None
    try:
        path.unlink()
    except OSError:
        pass
    try:
        doc = orjson.loads(raw)
        why = _mismatch(doc, ledger, checkpoints)
    except (orjson.JSONDecodeError, FormatError, KeyError, TypeError, ValueError) as exc:
        why = f"{HEAD_FILE} is not a ledger head ({exc})"
    if why is not None:
        _say(directory, why)
        return None
    return Head(
        last_id=doc["last_id"],
        last_hash=doc["last_hash"],
        last_ts=doc["last_ts"],
        acc=merkle.Accumulator.from_state([(w, bytes.fromhex(h)) for w, h in doc["acc"]]),
        size_bytes=doc["size"],
        last_sig=None if doc["sig"] is None else BatchSig(*doc["sig"]),
        last_ckpt_size=doc["ckpt_size"],
        last_entry_offset=doc["entry_offset"],
    )


def _mismatch(doc: Any, ledger: Path, checkpoints: Path) -> str | None:
    """Why ``doc`` does not describe the files as they are now, or None when it does."""
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        return f"{HEAD_FILE} has an unknown version"
    if doc["ledger"] != _identity(ledger) or doc["checkpoints"] != _identity(checkpoints):
        return f"{ledger.name} or {checkpoints.name} changed after the ledger was closed"
    if doc["last_id"] == 0:
        return None if doc["size"] == 0 and doc["sig"] is None else "an empty head names data"
    with ledger.open("rb") as f:
        lines = JournalReader(f, doc["entry_offset"], max_line_bytes=MAX_LINE_BYTES).lines()
        entry = next(lines, None)
        sig_line = next(lines, None)
        if entry is None or sig_line is None:
            return "the tail named by the head is not there"
        header, h, _ = split_entry(entry.data)
        if sha256_hex(header) != h or h != doc["last_hash"]:
            return f"entry at offset {entry.offset} does not hash to the saved head"
        if orjson.loads(header + b"}")["id"] != doc["last_id"]:
            return f"entry at offset {entry.offset} is not entry {doc['last_id']}"
        sig = parse_sig(sig_line.data)
        if [sig.upto, sig.hash, sig.key, sig.sig] != doc["sig"]:
            return "the last signature line is not the saved one"
        end = sig_line.end
        for line in lines:
            if not line.data.startswith(CKPT_PREFIX):
                return f"a line after the last signature at offset {line.offset}"
            parse_ckpt(line.data)
            end = line.end
    if end != doc["size"]:
        return "the tail does not end where the head says"
    return None


def _say(directory: Path, why: str) -> None:
    sys.stderr.write(
        f"orca: ledger at {directory}: saved head not used ({why}); re-hashing the whole ledger\n"
    )
