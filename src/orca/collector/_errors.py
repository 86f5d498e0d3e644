"""Errors of the collector.

CollectorError          the collector cannot run as asked
└── CollectorLocked     another collector already holds this home's lock
"""

from orca.errors import OrcaError


class CollectorError(OrcaError):
    """The collector cannot run as asked; the message names the home and a hint."""


class CollectorLocked(CollectorError):
    """Two collectors on one home would both write: the second one refuses to start."""

    def __init__(self, lock_path: str, pid: int | None) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"a collector ({who}) already holds {lock_path}; stop it first "
            "or use `orca status` to see it"
        )
