"""Bodies: content-addressed by sha256 of the original bytes, zstd above a threshold.

A body (a prompt, a verbatim provider request) is often repeated verbatim
across spans (a system prompt, a retried request), so it is stored once and
referenced by hash. Prompts of one conversation also *grow*: each shares most
of its bytes with the previous one. So a new body may be compressed with an
earlier body of the same conversation (or trace) as its zstd dictionary
(``zstd-ref``): the previous prompt, so only what was added costs bytes.
Chains are at most ``MAX_DEPTH`` long, so reading a body costs at most that
many small decompressions. Small bodies are stored raw: zstd does not pay
below a few hundred bytes.

Bodies above ``BLOB_ABOVE`` (256 KiB: a prompt with images, a file an agent
read) go to the blob store (``enc = 'blob'``): the row keeps the address (its
sha256 and size) and no data, so SQLite pages stay small and a reader streams
the head it shows instead of loading megabytes. Such bodies are not full-text
indexed (``load`` without a blob store gives None for them): indexing copies
text, and search over multi-megabyte payloads is not what the index is for.

Once the store holds enough bodies, a zstd dictionary trained from them
(``_dicts``) compresses every new one (``bodies.dict`` names it).

Hashes are stored as 32-byte blobs (``bodies.sha256``, ``spans.request_body``,
``spans.response_body``; schema 6), the way ``_ids`` stores trace and span ids:
as 64-character hex text they cost 32 more bytes in every body row and span
that holds one (measured on ``bench/storage.py``). The API speaks hex in and out;
:func:`orca.store._ids.key` makes the stored form, a value that is not lower-case
hex stays text and still round-trips.
"""

import base64
import hashlib
import io
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final, NamedTuple

import zstandard

from orca.blobs import Address
from orca.store import _dicts

if TYPE_CHECKING:  # the blob store (and its cipher) loads where a big body is read or written
    from orca.blobs import BlobStore
from orca.store._errors import StoreError
from orca.store._ids import Key, text
from orca.store._ids import key as id_key

COMPRESS_ABOVE: Final = 256
ZSTD_LEVEL: Final = 3
REF_GAIN: Final = 0.7  # use a reference only when it beats plain zstd by this factor
MAX_DEPTH: Final = 16  # longest chain of references; then a full body starts a new one
BLOB_ABOVE: Final = 256 * 1024  # bodies larger than this live in the blob store
BLOB: Final = "blob"
# What ``bodies_sha`` indexes: a hash's first 6 bytes (48 bits) find its row in a small
# index; the full hash is compared in the row (schema 6, see ``_schema``). A legacy text
# value is indexed by its first 6 characters: the same expression serves both.
KEY_BYTES: Final = 6
SHA_KEY: Final = f"substr(sha256, 1, {KEY_BYTES})"
# Where the stored hash (``key(hex)``) is ``?1``. ('+': SQLite would otherwise propagate
# ``sha256 = ?`` into the key and miss the index.)
SHA_WHERE: Final = f"{SHA_KEY} = substr(?1, 1, {KEY_BYTES}) AND +sha256 = ?1"
_WHERE: Final = {"id": "id = ?1", "sha256": SHA_WHERE}
Blobs = Callable[[], "BlobStore"]  # opens the home's blob store on first use

_compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


def body_bytes(record: dict[str, Any]) -> bytes | None:
    """The original bytes of a record's body (base64 undone), or None."""
    body = record.get("body")
    if body is None:
        return None
    if record.get("body_enc") == "base64":
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            return str(body).encode()
    return str(body).encode("utf-8", "surrogatepass")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(data: bytes) -> tuple[str, bytes]:
    """(encoding, stored bytes) for a body: zstd when that is smaller, else raw."""
    if len(data) > COMPRESS_ABOVE:
        packed = _compressor.compress(data)
        if len(packed) < len(data):
            return "zstd", packed
    return "raw", data


def _dict(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def encode_ref(data: bytes, base: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_dict(base)).compress(data)


def decode(enc: str, stored: bytes, base: bytes | None = None) -> bytes:
    if enc == "zstd":
        return _decompressor.decompress(stored)
    if enc == "zstd-ref":
        if base is None:
            raise StoreError("a zstd-ref body has no base: the store is damaged")
        return zstandard.ZstdDecompressor(dict_data=_dict(base)).decompress(stored)
    return bytes(stored)


def load(
    conn: sqlite3.Connection, where: str, key: object, blobs: Blobs | None = None
) -> bytes | None:
    """A body's original bytes by ``sha256`` or ``id`` (``where``), resolving its bases.

    A body in the blob store is read from it when ``blobs`` is given, else None.
    """
    stored = id_key(str(key)) if where == "sha256" else key  # a hex hash: its 32 bytes
    row = _fetch(conn, _WHERE[where], stored)
    if row is not None and row.enc == BLOB:
        if blobs is None:
            return None
        return blobs().read(_address(conn, where, stored))
    chain = []
    while row is not None:
        chain.append(row)
        if row.enc != "zstd-ref":
            break
        if len(chain) > MAX_DEPTH + 1:
            raise StoreError(f"body chain longer than {MAX_DEPTH} at {key!r}: the store is damaged")
        row = _fetch(conn, "id = ?1", row.base)
    if row is None:
        return None  # unknown, or a base was evicted: treat as pruned
    data = None
    for link in reversed(chain):
        if link.dict is not None:
            data = _dicts.decompress(conn, link.dict, link.data)
        else:
            data = decode(link.enc, link.data, data)
    return data


class _Stored(NamedTuple):
    """What decoding a body row needs."""

    enc: str
    data: bytes
    base: int | None  # zstd-ref: the body it was compressed against
    dict: int | None  # the trained dictionary it was compressed with


def _fetch(conn: sqlite3.Connection, where: str, key: object) -> _Stored | None:
    row = conn.execute(f"SELECT enc, data, base, dict FROM bodies WHERE {where}", (key,)).fetchone()
    return None if row is None else _Stored._make(row)


def _address(conn: sqlite3.Connection, where: str, key: object) -> Address:
    row = conn.execute(f"SELECT sha256, size FROM bodies WHERE {_WHERE[where]}", (key,)).fetchone()
    sha, size = row
    return Address(text(sha), size)


def open_body(conn: sqlite3.Connection, sha256: str, blobs: Blobs) -> BinaryIO | None:
    """A body as a readable stream: a blob streams from disk, a small body from memory."""
    row = conn.execute(
        f"SELECT enc, size FROM bodies WHERE {SHA_WHERE}", (id_key(sha256),)
    ).fetchone()
    if row is None:
        return None
    enc, size = row
    if enc == BLOB:
        return blobs().open(Address(sha256, size))
    data = load(conn, "sha256", sha256)
    return None if data is None else io.BytesIO(data)


def blob_shas(conn: sqlite3.Connection) -> set[str]:
    """The hex hash of every body kept in the blob store (its file names; retention compares
    before and after)."""
    return {text(r[0]) for r in conn.execute("SELECT sha256 FROM bodies WHERE enc = ?", (BLOB,))}


class Base(NamedTuple):
    """A key's latest full body: the next body's zstd dictionary."""

    id: int  # bodies.id
    data: bytes
    depth: int  # references it took to reach it (chains stop at MAX_DEPTH)


@dataclass(slots=True)
class Found:
    """A distinct body of one batch: the first record that carried it, and how many did."""

    data: bytes
    record: dict[str, Any]
    refs: int = 1


class Bases:
    """The latest full body per key (a conversation or a trace): the next body's dictionary.

    Lives as long as the store object (the collector's); checked against the
    table before use, since a prune (maybe from another process) may have
    removed it.
    """

    def __init__(self, max_keys: int = 1024) -> None:
        self._by_key: OrderedDict[str, Base] = OrderedDict()
        self.max_keys = max_keys
        self.dicts = _dicts.Trainer()  # the trained dictionary new bodies use

    def get(self, conn: sqlite3.Connection, key: str) -> "Base | None":
        entry = self._by_key.get(key)
        if entry is None:
            return None
        if conn.execute("SELECT 1 FROM bodies WHERE id = ?", (entry.id,)).fetchone() is None:
            del self._by_key[key]
            return None
        self._by_key.move_to_end(key)
        return entry

    def put(self, key: str, body_id: int, data: bytes, depth: int) -> None:
        self._by_key[key] = Base(body_id, data, depth)
        self._by_key.move_to_end(key)
        while len(self._by_key) > self.max_keys:
            self._by_key.popitem(last=False)


class BatchBodies:
    """The bodies of one batch, de-duplicated before they touch the table."""

    def __init__(
        self, bases: Bases, blobs: Blobs | None = None, blob_above: int = BLOB_ABOVE
    ) -> None:
        self.found: dict[Key, Found] = {}  # by stored sha256 (32 bytes)
        self.bases = bases
        self.blobs = blobs
        self.blob_above = blob_above

    def add(self, record: dict[str, Any]) -> tuple[Key | None, int]:
        """The stored hash (``_ids.key`` of the hex: the 32 raw bytes) and size of its body."""
        data = body_bytes(record)
        if data is None:
            return None, 0
        sha = hashlib.sha256(data).digest()
        entry = self.found.get(sha)
        if entry is None:
            self.found[sha] = Found(data, record)
        else:
            entry.refs += 1
        return sha, len(data)

    def _key(self, conn: sqlite3.Connection, record: dict[str, Any], traces: dict[str, Any]) -> str:
        """Bodies of one conversation (else one trace), requests and responses apart."""
        attrs = record.get("attrs") or {}
        conv = attrs.get("gen_ai.conversation.id")
        if conv is None and record["trace"] in traces:
            conv = traces[record["trace"]].conversation_id
        if conv is None:
            row = conn.execute(
                "SELECT conversation_id FROM traces WHERE trace_id = ?", (id_key(record["trace"]),)
            ).fetchone()
            conv = row[0] if row else None
        where = f"c:{conv}" if conv is not None else f"t:{record['trace']}"
        return f"{record['kind']}/{record.get('name', '')}/{where}"

    def write(self, conn: sqlite3.Connection, traces: dict[str, Any]) -> None:
        if not self.found:
            return
        keys = list({sha[:KEY_BYTES] for sha in self.found})
        known: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"SELECT sha256 FROM bodies WHERE {SHA_KEY} IN ({marks})", chunk)
            known.update(r[0] for r in rows if r[0] in self.found)
        conn.executemany(
            f"UPDATE bodies SET refs = refs + ?2 WHERE {SHA_WHERE}",
            [(s, self.found[s].refs) for s in known],
        )
        trained = self.bases.dicts.get(conn, lambda n: _samples(conn, n))
        compressed = 0
        for sha, found in self.found.items():
            if sha in known:
                continue
            data, refs, record = found.data, found.refs, found.record
            ts, trace, span = record["ts"], id_key(record["trace"]), id_key(record["span"])
            if self.blobs is not None and len(data) > self.blob_above:
                # Durable in the blob store before the row that points at it commits.
                store = self.blobs()
                address = store.put(data)
                conn.execute(
                    "INSERT INTO bodies (sha256, size, stored, enc, data, base, refs, first_ns,"
                    " trace_id, span_id) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                    (sha, len(data), store.stored_bytes(address), BLOB, b"", refs, ts, trace, span),
                )
                continue
            enc, stored = encode(data)
            base_id = dict_id = None
            key = None
            depth = 0
            if enc == "zstd":
                compressed += 1
                if trained is not None:
                    packed = trained.compressor.compress(data)
                    if len(packed) < len(stored):
                        stored, dict_id = packed, trained.id
                key = self._key(conn, record, traces)
                base = self.bases.get(conn, key)
                if base is not None and base.depth < MAX_DEPTH:
                    ref = encode_ref(data, base.data)
                    if len(ref) < REF_GAIN * len(stored):
                        enc, stored, base_id, depth = "zstd-ref", ref, base.id, base.depth + 1
                        dict_id = None
            cur = conn.execute(
                "INSERT INTO bodies (sha256, size, stored, enc, data, base, refs, first_ns,"
                " trace_id, span_id, dict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sha, len(data), len(stored), enc, stored, base_id, refs, ts, trace, span, dict_id),
            )
            if key is not None and cur.lastrowid is not None:
                self.bases.put(key, cur.lastrowid, data, depth)
        self.bases.dicts.saw(compressed)


def _samples(conn: sqlite3.Connection, n: int) -> list[bytes]:
    """The store's newest ``n`` zstd bodies, decoded: what a dictionary learns from."""
    ids = conn.execute(
        "SELECT id FROM bodies WHERE enc IN ('zstd', 'zstd-ref') ORDER BY id DESC LIMIT ?", (n,)
    ).fetchall()
    found = (load(conn, "id", body_id) for (body_id,) in ids)
    return [data for data in found if data is not None]
