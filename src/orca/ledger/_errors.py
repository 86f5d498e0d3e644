"""Errors of the ledger.

    LedgerError
    ├── ActionError          an action that cannot be recorded (bad kind, id or payload)
    ├── LedgerLockedError    another process holds the ledger open for appending
    ├── LedgerCorruptError   the ledger's head does not verify; appending would extend a lie
    └── ProofError           a proof cannot be given (no checkpoint covers the entry, bad sizes)

A durable write that fails raises :class:`orca.journal.DurableWriteError`.
"""

from orca.errors import OrcaError


class LedgerError(OrcaError):
    """Base of ledger errors."""


class ActionError(LedgerError, ValueError):
    """The action cannot be recorded as given; nothing was written."""


class LedgerLockedError(LedgerError):
    """The ledger is open for appending in another process (one writer per ledger)."""


class LedgerCorruptError(LedgerError):
    """Opening found damage that recovery must not paper over; run ``orca verify``."""


class ProofError(LedgerError):
    """An inclusion or consistency proof cannot be produced as asked."""
