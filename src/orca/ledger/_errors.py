"""Errors of the ledger.

    LedgerError
    ├── ActionError          an action that cannot be recorded (bad kind, id or payload)
    ├── FormatError          a line that is not a well-formed ledger line (also a ValueError)
    ├── LedgerLocked         another process holds the ledger open for appending (names its pid)
    ├── LedgerCorruptError   the ledger's head does not verify; appending would extend a lie
    └── ProofError           a proof cannot be given (no checkpoint covers the entry, bad sizes)

A durable write that fails raises :class:`orca.journal.DurableWriteError`.
"""

from orca.errors import OrcaError


class LedgerError(OrcaError):
    """Base of ledger errors."""


class ActionError(LedgerError, ValueError):
    """The action cannot be recorded as given; nothing was written."""


class LedgerLocked(LedgerError):
    """The ledger is open for appending in another process (one writer per ledger).

    Named like ``CollectorLocked`` and ``ServerLocked``: a refusal reads as the
    state it found. ``pid`` is the holder's (0 or None when it wrote none).
    """

    def __init__(self, directory: str, pid: int | None) -> None:
        self.pid = pid
        super().__init__(
            f"the ledger at {directory} is open for appending in another process"
            f"{f' (pid {pid})' if pid else ''}; one writer at a time: stop it first"
            " (readers such as `orca verify` need no lock)"
        )


class LedgerCorruptError(LedgerError):
    """Opening found damage that recovery must not paper over; run ``orca verify``."""


class ProofError(LedgerError):
    """An inclusion or consistency proof cannot be produced as asked."""
