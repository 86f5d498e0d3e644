"""Span attributes stored as zstd frames compressed with a dictionary trained on the store's own.

Why: a span's attributes are a small JSON object (~100-300 bytes) whose keys
and most values repeat from span to span (``gen_ai.request.model``, the
model's name, the component). zstd alone cannot compress so little, but with
a dictionary trained on the store's first attributes (``_dicts``, kind
``attrs``) each object costs only what is new in it: measured on
``bench/storage.py``, ~113 bytes of JSON a span became ~30.

A stored value is one of:

* NULL (no attributes),
* TEXT: the JSON object (rows written before a dictionary existed, or whose
  compressed form was not smaller; old stores need no rewrite),
* BLOB: a varint naming the ``zstd_dicts`` row, then a zstd frame without
  magic number, dictionary id or checksum (the row id says all of that).

Every SQL use of ``spans.attrs`` reads it through :data:`DECODE`
(``orca_attrs(attrs)`` gives the JSON text, deterministic), registered on
every store connection by :func:`register`; the writer's merge of an open's
and a close's attributes packs its result again with :data:`PACK`. Logs' and
links' attributes stay JSON text.
"""

import sqlite3
import threading
from typing import Final

import orjson
import zstandard

from orca.store import _dicts
from orca.store._errors import StoreError

DECODE: Final = "orca_attrs"  # SQL: orca_attrs(spans.attrs) -> JSON text or NULL
PACK: Final = "orca_attrs_pack"  # SQL: JSON text -> the stored form (the writer's merge)

# Measured on bench/storage.py: a 16 KB dictionary trained on 2,000 attributes objects
# packs its ~113 bytes of JSON a span into ~30 (zstd level 3: ~0.9 us a span).
TRAIN_AFTER: Final = 2000
DICT_BYTES: Final = 16 * 1024
_FORMAT: Final = zstandard.FORMAT_ZSTD1_MAGICLESS


def _compressor(found: zstandard.ZstdCompressionDict) -> zstandard.ZstdCompressor:
    params = zstandard.ZstdCompressionParameters.from_level(
        _dicts.LEVEL, format=_FORMAT, write_dict_id=0, write_checksum=0, write_content_size=1
    )
    return zstandard.ZstdCompressor(compression_params=params, dict_data=found)


KIND: Final = _dicts.Kind(
    "attrs",
    TRAIN_AFTER,
    DICT_BYTES,
    f"SELECT count(*) FROM (SELECT 1 FROM spans WHERE attrs IS NOT NULL LIMIT {TRAIN_AFTER})",
    _compressor,
)


def varint(n: int) -> bytes:
    """``n`` (>= 0) as a little-endian base-128 varint (one byte below 128)."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(data: bytes) -> tuple[int, int]:
    """The varint at the start of ``data`` and the offset just after it."""
    n = shift = 0
    for i, byte in enumerate(data):
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, i + 1
        shift += 7
    raise StoreError("a span's stored attributes are truncated: the store is damaged")


def _samples(conn: sqlite3.Connection, n: int) -> list[bytes]:
    rows = conn.execute(
        "SELECT attrs FROM spans WHERE typeof(attrs) = 'text' ORDER BY id DESC LIMIT ?", (n,)
    )
    return [r[0].encode() for r in rows]


class Codec:
    """Packs and unpacks one connection's span attributes.

    ``begin`` (once per batch, by the writer) trains the dictionary when its
    time has come and forgets the decoders it knew: a dictionary row of a
    batch that rolled back may come back with another dictionary under the
    same id. Readers (no batches) only see committed rows.
    """

    def __init__(self, conn: sqlite3.Connection, train_after: int | None = None) -> None:
        self._conn = conn
        self.trainer = _dicts.Trainer(train_after, KIND)
        self._current: _dicts.Current | None = None
        self._header = b""
        self._decoders: dict[int, zstandard.ZstdDecompressor] = {}
        self._lock = threading.Lock()  # the server hands one connection between threads

    def begin(self, conn: sqlite3.Connection) -> None:
        """Ready for a batch on ``conn`` (in its write transaction)."""
        self._decoders.clear()
        self._current = self.trainer.get(conn, lambda n: _samples(conn, n))
        self._header = b"" if self._current is None else varint(self._current.id)

    def dumps(self, attrs: object) -> str | bytes | None:
        """The stored form of ``attrs`` (None when empty)."""
        return self.pack(orjson.dumps(attrs)) if attrs else None

    def pack(self, raw: bytes) -> str | bytes:
        """The stored form of the JSON object ``raw``: compressed when that is smaller."""
        current = self._current
        if current is not None:
            packed = self._header + current.compressor.compress(raw)
            if len(packed) < len(raw):
                return packed
        else:
            self.trainer.saw(1)
        return raw.decode()

    def unpack(self, stored: str | bytes | None) -> str | None:
        """The JSON text of a stored value."""
        if stored is None or isinstance(stored, str):
            return stored
        data = bytes(stored)
        dict_id, start = _read_varint(data)
        with self._lock:
            decoder = self._decoders.get(dict_id)
            if decoder is None:
                found = _dicts.dictionary(self._conn, dict_id)
                if found is None:
                    raise StoreError(
                        f"zstd dictionary {dict_id} of span attributes is missing:"
                        " the store is damaged"
                    )
                decoder = self._decoders[dict_id] = zstandard.ZstdDecompressor(
                    dict_data=found, format=_FORMAT
                )
            return decoder.decompress(data[start:]).decode()


def register(conn: sqlite3.Connection) -> Codec:
    """Give ``conn`` the SQL functions of span attributes; the codec behind them."""
    codec = Codec(conn)
    conn.create_function(DECODE, 1, codec.unpack, deterministic=True)
    conn.create_function(PACK, 1, lambda text: None if text is None else codec.pack(text.encode()))
    return codec
