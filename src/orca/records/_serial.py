"""The byte form of a record: one compact JSON object and a newline.

Key order is the order the builder inserted keys (orjson keeps it), which is
what makes the golden files byte-stable without sorting on the hot path.
"""

import orjson

from orca.records._errors import RecordError
from orca.records._schema import Record
from orca.records._validate import validate


def dumps(record: Record) -> bytes:
    """Serialise one record to its journal line (newline included)."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def loads(line: bytes | str) -> Record:
    """Parse and validate one journal line; raise :class:`RecordError` on anything else."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RecordError("", f"not valid JSON: {exc}") from None
    return validate(obj)
