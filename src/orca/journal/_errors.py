"""Errors of the journal.

Only the durable side raises them: the fail-safe sink on the traced process's
hot path counts and swallows instead (the turn is sovereign).

    JournalError
    └── DurableWriteError   an fsync'd append did not reach the disk
"""

from orca.errors import OrcaError


class JournalError(OrcaError):
    """Base of journal errors."""


class DurableWriteError(JournalError):
    """A durable append failed; the entry must be treated as not written."""

    def __init__(self, path: str, op: str, cause: OSError) -> None:
        self.path = path
        self.op = op
        super().__init__(
            f"{op} on {path} failed: {cause.strerror or cause}; "
            "check free disk space and permissions of the ORCA home"
        )
