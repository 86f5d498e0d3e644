"""Schema 6's conversion of stored body hashes from hex text to 32-byte blobs.

A sha256 as 64 hex characters costs 32 bytes more than its digest in every
``bodies`` row and in each span's ``request_body`` / ``response_body``
(measured on ``bench/storage.py``: ~40 bytes a span). The writer stores
``_ids.key(hex)`` (the raw digest), readers show ``_ids.text`` (hex again); a
value that is not lower-case hex (none the writer makes) stays text. Existing
rows are converted in place with the function schema 5 registered for ids
(``orca_id_key``: the same conversion), and the prefix index is made again
over the blob's first bytes.
"""

from typing import Final

from orca.store._bodies import SHA_KEY
from orca.store._fts import SPAN_UPDATE_TRIGGER
from orca.store._ids import KEY_FUNCTION as KEY

MIGRATION: Final[list[str]] = [
    "DROP INDEX bodies_sha",
    f"UPDATE bodies SET sha256 = {KEY}(sha256)",
    f"CREATE INDEX bodies_sha ON bodies({SHA_KEY})",
    # the text a span indexes does not change: no need to re-index every span with a body
    "DROP TRIGGER fts_spans_update",
    f"UPDATE spans SET request_body = {KEY}(request_body), response_body = {KEY}(response_body)"
    " WHERE request_body IS NOT NULL OR response_body IS NOT NULL",
    SPAN_UPDATE_TRIGGER,
]
