"""Bodies in PostgreSQL: content addressed, shared by every host, big ones in the blob store.

A batch first asks which of its bodies the database already holds (another
batch, or another host, stored them): only new ones are compressed, sent and
given search lexemes — a system prompt repeated by every span of every batch
costs one ``sha256`` and one lookup, not a zstd pass, a copy over the wire and
a ``to_tsvector``. Bodies above ``BLOB_ABOVE`` (256 KiB) go to the home's blob
store (``orca.blobs``) by address, as in SQLite: the row keeps sha256 and size,
no data, no lexemes. A blob lives on the host whose collector stored it, so
each collector also keeps a copy of a big body its own writers sent when
another host stored it first: every host reads the big bodies its agents sent.
A store opened by URL alone (no home: ``orca migrate`` into a database) keeps
every body in the database.
"""

import io
from typing import Any, BinaryIO, Final, NamedTuple

import psycopg

from orca.blobs import Address, BlobNotFoundError
from orca.store import _bodies
from orca.store._bodies import BLOB, BLOB_ABOVE, Blobs
from orca.store._pg_schema import TS_CONFIG

MAX_TSV_TEXT: Final = 1_000_000  # bytes of a body's text given to to_tsvector (its limit is 1 MB)
Conn = psycopg.Connection[Any]


class BodyIn(NamedTuple):
    """One new body as it is staged (``COPY``) before its insert."""

    sha256: str
    size: int
    stored: int
    enc: str
    data: bytes
    first_ns: int
    trace_id: str
    span_id: str
    text: str  # what its search lexemes are made of ('' for a blob)


class _Seen(NamedTuple):
    data: bytes
    ts_ns: int
    trace_id: str
    span_id: str


class PendingBodies:
    """The batch's distinct bodies, by sha256, until :func:`write` sends the new ones."""

    def __init__(self) -> None:
        self.found: dict[str, _Seen] = {}

    def add(self, rec: dict[str, Any]) -> tuple[str | None, int]:
        """Note a record's body; its (sha256, size), or (None, 0) when it has none."""
        data = _bodies.body_bytes(rec)
        if data is None:
            return None, 0
        sha = _bodies.digest(data)
        if sha not in self.found:
            self.found[sha] = _Seen(data, rec["ts"], rec["trace"], rec["span"])
        return sha, len(data)


def _new_row(sha: str, seen: _Seen, blobs: Blobs | None) -> BodyIn:
    data = seen.data
    if blobs is not None and len(data) > BLOB_ABOVE:
        store = blobs()  # durable in the blob store before the row that points at it commits
        address = store.put(data)
        enc, packed, stored, text = BLOB, b"", store.stored_bytes(address), ""
    else:
        enc, packed = _bodies.encode(data)
        stored = len(packed)
        text = data[:MAX_TSV_TEXT].decode("utf-8", "replace").replace("\x00", " ")
    return BodyIn(
        sha, len(data), stored, enc, packed, seen.ts_ns, seen.trace_id, seen.span_id, text
    )


def write(cur: psycopg.Cursor[Any], pending: PendingBodies, blobs: Blobs | None) -> int:
    """Store the bodies the database lacks (in the caller's transaction); how many were new."""
    if not pending.found:
        return 0
    cur.execute("SELECT sha256, enc FROM bodies WHERE sha256 = ANY(%s)", (list(pending.found),))
    known = dict(cur.fetchall())
    if blobs is not None:
        for sha, enc in known.items():
            seen = pending.found[sha]
            if enc == BLOB and len(seen.data) > BLOB_ABOVE:
                blobs().put(seen.data)  # stored first by another host: keep ours readable here
    rows = [_new_row(sha, seen, blobs) for sha, seen in pending.found.items() if sha not in known]
    if not rows:
        return 0
    rows.sort(key=lambda b: b.sha256)
    cur.execute(
        "CREATE TEMP TABLE bodies_in (sha256 TEXT, size BIGINT, stored BIGINT, enc TEXT,"
        " data BYTEA, first_ns BIGINT, trace_id TEXT, span_id TEXT, text TEXT) ON COMMIT DROP"
    )
    with cur.copy(f"COPY bodies_in ({', '.join(BodyIn._fields)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
    # ON CONFLICT: another host may commit the same body between our lookup and this insert.
    cur.execute(
        "INSERT INTO bodies (sha256, size, stored, enc, data, first_ns, trace_id, span_id, tsv)"
        " SELECT sha256, size, stored, enc, data, first_ns, trace_id, span_id,"
        f" to_tsvector('{TS_CONFIG}', text) FROM bodies_in ORDER BY sha256"
        " ON CONFLICT (sha256) DO NOTHING"
    )
    return len(rows)


def _row(conn: Conn, sha256: str) -> tuple[str, bytes, int] | None:
    row = conn.execute("SELECT enc, data, size FROM bodies WHERE sha256 = %s", (sha256,)).fetchone()
    return None if row is None else (row[0], bytes(row[1]), row[2])


def load(conn: Conn, sha256: str, blobs: Blobs | None) -> bytes | None:
    """A body's original bytes; a blob is read from this home's blob store (None without one)."""
    stream = open_body(conn, sha256, blobs)
    if stream is None:
        return None
    with stream:
        return stream.read()


def _blob(sha256: str, size: int, blobs: Blobs | None) -> BinaryIO | None:
    """A blob of this home's store; None without one, or when another host stored it."""
    if blobs is None:
        return None
    try:
        return blobs().open(Address(sha256, size))
    except BlobNotFoundError:
        return None


def open_body(conn: Conn, sha256: str, blobs: Blobs | None) -> BinaryIO | None:
    """A body as a stream: a blob streams from disk, a body in the database from memory."""
    row = _row(conn, sha256)
    if row is None:
        return None
    enc, data, size = row
    if enc == BLOB:
        return _blob(sha256, size, blobs)
    return io.BytesIO(_bodies.decode(enc, data))


def blob_shas(conn: Conn) -> set[str]:
    """Every body kept in a blob store (by any host): what ``orca blobs gc`` must keep."""
    return {r[0] for r in conn.execute("SELECT sha256 FROM bodies WHERE enc = %s", (BLOB,))}
