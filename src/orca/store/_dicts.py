"""Trained zstd dictionaries: small bodies compress like big ones once zstd knows the language.

A 2 KB prompt compressed on its own starts from nothing: zstd spends much of
its output teaching itself the words. A dictionary trained on the store's own
first bodies (``zstandard.train_dictionary``) carries that knowledge once, in
the store, so each later body costs only what is new in it (measured on
``bench/storage.py``'s unique, realistic-entropy bodies: 0.75x the bytes of
plain zstd at the same level, at no extra compression time).

Each dictionary is a row of ``zstd_dicts`` and each body compressed with one
names it (``bodies.dict``), so a later dictionary (retrained on newer bodies)
never makes an older body unreadable; dictionary rows are never deleted (one
is 64 KiB). Readers keep decoded dictionaries in a process-wide cache keyed
by the dictionary's digest, so two stores opened by one process (``orca
migrate``) never mix theirs up.
"""

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

import zstandard

from orca.store._errors import StoreError

TRAIN_AFTER: Final = 1000  # compressible bodies the first dictionary is trained from
DICT_BYTES: Final = 64 * 1024  # bigger ones gained <1% on the bench, and cost memory per reader
LEVEL: Final = 3

# Part of schema version 5 (see ``_schema``); ``bodies.dict`` names a row.
MIGRATION: Final[list[str]] = [
    """CREATE TABLE zstd_dicts (
        id INTEGER PRIMARY KEY,
        digest BLOB NOT NULL UNIQUE,        -- sha256 of data (the readers' cache key)
        trained_ns INTEGER NOT NULL,
        samples INTEGER NOT NULL,           -- bodies it was trained from
        data BLOB NOT NULL                  -- the zstd dictionary
    )""",
]

# Part of schema version 6: span attributes have dictionaries of their own (see ``_attrs``).
KIND_MIGRATION: Final[list[str]] = [
    "ALTER TABLE zstd_dicts ADD COLUMN kind TEXT NOT NULL DEFAULT 'bodies'",  # or 'attrs'
]

_cache: dict[bytes, zstandard.ZstdCompressionDict] = {}


def dictionary(conn: sqlite3.Connection, dict_id: int) -> zstandard.ZstdCompressionDict | None:
    """Dictionary ``dict_id`` of the store on ``conn`` (None: no such row)."""
    row = conn.execute("SELECT digest FROM zstd_dicts WHERE id = ?", (dict_id,)).fetchone()
    if row is None:
        return None
    found = _cache.get(row[0])
    if found is None:
        data = conn.execute("SELECT data FROM zstd_dicts WHERE id = ?", (dict_id,)).fetchone()[0]
        found = _cache[row[0]] = zstandard.ZstdCompressionDict(data)
    return found


_local = threading.local()  # a ZstdDecompressor is not thread-safe: one per thread and dict


def decompress(conn: sqlite3.Connection, dict_id: int, stored: bytes) -> bytes:
    """A body compressed with dictionary ``dict_id``, decompressed.

    The decompressor is kept (per thread): making one loads the dictionary,
    ~12 us against ~2 us for the decompression of a 2 KB body (measured).
    """
    row = conn.execute("SELECT digest FROM zstd_dicts WHERE id = ?", (dict_id,)).fetchone()
    if row is None:
        raise StoreError(f"zstd dictionary {dict_id} is missing: the store is damaged")
    mine: dict[bytes, zstandard.ZstdDecompressor] = _local.__dict__.setdefault("by_digest", {})
    found = mine.get(row[0])
    if found is None:
        data = dictionary(conn, dict_id)
        assert data is not None
        found = mine[row[0]] = zstandard.ZstdDecompressor(dict_data=data)
    return found.decompress(stored)


class Current(NamedTuple):
    """The dictionary new values of one kind are compressed with."""

    id: int
    compressor: zstandard.ZstdCompressor


Samples = Callable[[int], list[bytes]]  # the store's newest n values to learn from


class Kind(NamedTuple):
    """What a trainer's dictionaries are for: ``zstd_dicts.kind`` and how they are made."""

    name: str
    train_after: int  # values stored before the first dictionary is trained
    dict_bytes: int
    stored: str  # SQL: how many values the store holds to learn from (before any dictionary)
    compressor: Callable[[zstandard.ZstdCompressionDict], zstandard.ZstdCompressor]


BODIES: Final = Kind(
    "bodies",
    TRAIN_AFTER,
    DICT_BYTES,
    "SELECT count(*) FROM bodies WHERE enc IN ('zstd', 'zstd-ref')",
    lambda found: zstandard.ZstdCompressor(level=LEVEL, dict_data=found),
)


class Trainer:
    """Holds the store's newest dictionary of a kind; trains the first once enough values exist.

    Lives as long as the store object (the collector's). It counts the
    compressible values written instead of asking the table each batch; a
    training that fails (values zstd cannot learn from) is retried after
    twice as many.
    """

    def __init__(self, train_after: int | None = None, kind: Kind = BODIES) -> None:
        self.kind = kind
        self.train_after = kind.train_after if train_after is None else train_after
        self.current: Current | None = None
        self._seen: int | None = None  # zstd bodies stored since the last training (None: unread)
        self._due: int | None = None  # train when _seen reaches it (None: not planned)

    def get(self, conn: sqlite3.Connection, samples: Samples) -> Current | None:
        """The dictionary to compress with now, training one when its time has come."""
        if (
            self.current is not None
            and not conn.execute(
                "SELECT 1 FROM zstd_dicts WHERE id = ?", (self.current.id,)
            ).fetchone()
        ):
            self.current, self._seen = None, None  # the batch that trained it rolled back
        if self._seen is None:  # first use: what the file holds
            row = conn.execute(
                "SELECT max(id) FROM zstd_dicts WHERE kind = ?", (self.kind.name,)
            ).fetchone()
            if row[0] is not None:
                self._use(conn, row[0])
                self._seen, self._due = 0, None
            else:
                self._seen = conn.execute(self.kind.stored).fetchone()[0]
                self._due = self.train_after
        if self._due is not None and self._seen >= self._due:
            self._train(conn, samples(self._due))
        return self.current

    def _train(self, conn: sqlite3.Connection, bodies: Sequence[bytes]) -> None:
        try:
            data = zstandard.train_dictionary(
                self.kind.dict_bytes, list(bodies), level=LEVEL
            ).as_bytes()
        except zstandard.ZstdError:
            self._due = 2 * (self._due or self.train_after)  # too little to learn from: later
            return
        cur = conn.execute(
            "INSERT INTO zstd_dicts (digest, trained_ns, samples, data, kind)"
            " VALUES (?, ?, ?, ?, ?)",
            (hashlib.sha256(data).digest(), time.time_ns(), len(bodies), data, self.kind.name),
        )
        assert cur.lastrowid is not None
        self._use(conn, cur.lastrowid)
        self._seen, self._due = 0, None

    def retrain_after(self, bodies: int) -> None:
        """Train a new dictionary (from the newest bodies) once ``bodies`` more are stored."""
        self._seen, self._due = 0, bodies

    def saw(self, compressed: int) -> None:
        """``compressed`` more bodies were stored with zstd (counts towards training)."""
        if self._seen is not None:
            self._seen += compressed

    def _use(self, conn: sqlite3.Connection, dict_id: int) -> Current:
        found = dictionary(conn, dict_id)
        assert found is not None
        self.current = Current(dict_id, self.kind.compressor(found))
        return self.current
