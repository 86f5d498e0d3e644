"""Erasing a payload in place: the GDPR path that keeps the chain whole.

The payload is overwritten with ``null`` padded by spaces to its old length,
so the entry's header, hash and payload commitment are untouched, every later
byte offset stays where it was (tailing readers and sink cursors keep
working), and verification reads it as "payload erased, commitment intact".
Re-running after a crash is harmless.
"""

import os
from pathlib import Path

from orca.journal import JournalReader
from orca.ledger._errors import LedgerError
from orca.ledger._format import (
    ENTRY_PREFIX,
    ERASED,
    H_MARK,
    MAX_LINE_BYTES,
    FormatError,
    parse_entry,
)


def erase_in_place(path: Path, entry_id: int) -> bool:
    """Overwrite entry ``entry_id``'s payload; False when it was already erased."""
    with path.open("rb") as f:
        for line in JournalReader(f, max_line_bytes=MAX_LINE_BYTES).lines():
            if not line.data.startswith(ENTRY_PREFIX):
                continue
            try:
                entry, header, payload = parse_entry(line.data, line.offset)
            except FormatError as exc:
                raise LedgerError(
                    f"{path} at offset {line.offset}: {exc}; run `orca verify`"
                ) from None
            if entry.id != entry_id:
                continue
            if entry.erased:
                return False
            at = line.offset + len(header) + len(H_MARK) + 64 + len(b'","p":')
            blank = ERASED + b" " * (len(payload) - len(ERASED))
            fd = os.open(path, os.O_WRONLY)
            try:
                os.pwrite(fd, blank, at)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
    raise LedgerError(f"no entry {entry_id} in {path}")
