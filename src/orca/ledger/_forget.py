"""Erasing a payload in place: the GDPR path that keeps the chain whole.

The payload is overwritten with ``null`` padded by spaces to its old length,
so the entry's header, hash and payload commitment are untouched, every later
byte offset stays where it was (tailing readers and sink cursors keep
working), and verification reads it as "payload erased, commitment intact".
Re-running after a crash is harmless.

Because no offset moves, a tailing reader (the collector's store mirror) never
sees an erasure; :func:`erased_ids` is how it asks, so no other room has to
know what an erased line looks like.
"""

import mmap
import os
from pathlib import Path
from typing import Final

from orca.journal import JournalReader
from orca.ledger._errors import LedgerError
from orca.ledger._format import (
    ENTRY_PREFIX,
    ERASED,
    H_MARK,
    MAX_LINE_BYTES,
    P_MARK,
    FormatError,
    parse_entry,
)
from orca.ledger._read import ledger_path

# Every erased entry's line holds this; a live payload may too (a key "p" whose value is
# null, after a string), so each hit is confirmed by the strict parser.
_ERASED_MARK: Final = P_MARK + ERASED


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
            at = line.offset + len(header) + len(H_MARK) + 64 + len(P_MARK)
            blank = ERASED + b" " * (len(payload) - len(ERASED))
            fd = os.open(path, os.O_WRONLY)
            try:
                os.pwrite(fd, blank, at)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
    raise LedgerError(f"no entry {entry_id} in {path}")


def erased_ids(source: Path, upto: int) -> list[int]:
    """Ids of the entries erased by ``forget`` in the first ``upto`` bytes, in file order.

    ``source`` is a home, a ledger directory or the ledger file (as for
    :func:`~orca.ledger.read_entries`); a missing ledger has none. One scan of
    the raw bytes for the erased-payload mark, each hit confirmed by parsing
    its line, so the cost follows the size of the file, not the entry count.
    A damaged line is not reported here (``orca verify`` reports it).
    """
    try:
        f = ledger_path(source).open("rb")
    except FileNotFoundError:
        return []
    with f:
        size = min(upto, f.seek(0, os.SEEK_END))
        if size <= 0:
            return []
        with mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
            out: list[int] = []
            i = m.find(_ERASED_MARK)
            while i >= 0:
                start = m.rfind(b"\n", 0, i) + 1
                end = m.find(b"\n", i)
                end = size if end < 0 else end
                line = m[start:end]
                if line.startswith(ENTRY_PREFIX):
                    try:
                        entry = parse_entry(line)[0]
                    except FormatError:
                        entry = None
                    if entry is not None and entry.erased:
                        out.append(entry.id)
                i = m.find(_ERASED_MARK, end)
            return out
