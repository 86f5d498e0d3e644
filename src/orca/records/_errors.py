"""The one error of the record contract.

It carries the offending field so a quarantine row or a CLI line can say
exactly what to fix, not just "invalid record".
"""

from orca.errors import OrcaError


class RecordError(OrcaError, ValueError):
    """A value that is not a valid ORCA record.

    ``field`` is the dotted path of the first offending field (``"attrs.n"``),
    or ``""`` when the problem is the whole line (not JSON, not an object).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}" if field else message)
