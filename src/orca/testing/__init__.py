"""Public test doubles: temporary homes and captured records.

Our own tests use these, and so can yours: they are real parts (a real
journal in a real directory), not mocks.
"""

from orca.testing._records import capture_records, journal_records, temp_home

__all__ = ["capture_records", "journal_records", "temp_home"]
