"""The journal: append-only NDJSON segments, one writer process each.

The journal is the queue between a traced process and the collector: the
sink appends (fail-safe), the reader tails from byte offsets (torn tails wait).
:class:`AppendFile` in durable mode is the building block the ledger reuses.

The reader (and with it the record contract's validation) loads on first use:
the traced process only writes, so ``import orca`` does not pay for it.
"""

from typing import TYPE_CHECKING, Any

from orca.journal._append import AppendFile, fsync_dir
from orca.journal._errors import DurableWriteError, JournalError
from orca.journal._procinfo import hostname, process_alive, process_start_ticks
from orca.journal._segments import SegmentName, list_segments
from orca.journal._sink import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_MAX_RECORD_BYTES,
    DEFAULT_ROTATE_BYTES,
    JournalSink,
)

if TYPE_CHECKING:
    from orca.journal._reader import JournalReader, Line, Parsed, read_records
    from orca.journal._relay import RelayError, RelayWriter

_LAZY = frozenset({"JournalReader", "Line", "Parsed", "read_records"})
_LAZY_RELAY = frozenset({"RelayError", "RelayWriter"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from orca.journal import _reader

        return getattr(_reader, name)
    if name in _LAZY_RELAY:  # the server's OTLP ingest; never the traced process
        from orca.journal import _relay

        return getattr(_relay, name)
    raise AttributeError(f"module 'orca.journal' has no attribute {name!r}")


__all__ = [
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_MAX_RECORD_BYTES",
    "DEFAULT_ROTATE_BYTES",
    "AppendFile",
    "DurableWriteError",
    "JournalError",
    "JournalReader",
    "JournalSink",
    "Line",
    "Parsed",
    "RelayError",
    "RelayWriter",
    "SegmentName",
    "fsync_dir",
    "hostname",
    "list_segments",
    "process_alive",
    "process_start_ticks",
    "read_records",
]
