"""Errors of the store.

StoreError            the store file cannot be opened, migrated or written
└── SchemaError       the file was written by a newer ORCA (or is not an ORCA store)
"""

from orca.errors import OrcaError


class StoreError(OrcaError):
    """The store cannot do what was asked; the message names the file and a hint."""


class SchemaError(StoreError):
    """The store file's schema is newer than this ORCA, or it is not an ORCA store."""
