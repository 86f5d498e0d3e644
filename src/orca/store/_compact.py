"""Compaction: bodies recompressed hard, and the search index merged, while the collector idles.

Why two levels: the collector compresses a body at zstd level 3 because it
does so on the ingest path (~7 us a 2 KB body); level 19 with the store's
trained dictionary takes ~200 us a body but stores it ~15% smaller (measured
on ``bench/storage.py``'s bodies, 2 KB of realistic-entropy text, a 64 KiB
dictionary, best of 3, 2-core machine at load ~2):

    level   3: 468 B/body    7 us     level 15: 417 B/body  117 us
    level  12: 436 B/body   55 us     level 16+: 414 B/body  183 us (17-22 the same:
    level  14: 418 B/body  116 us              zstd caps its parameters for small inputs)

We take 19 (the smallest; the time is the collector's idle time). The frames
drop zstd's dictionary id (4 bytes a body): ``bodies.dict`` names the dictionary.
Bodies stored before the first dictionary was trained get it too; with no
dictionary yet, bodies wait (compacting them without one would leave them
without it for good). Small ``raw`` bodies (under 256 bytes, where plain zstd
does not pay) shrink by half with a dictionary, so they are recompressed
too; a ``zstd-ref`` body keeps its base unless the dictionary does better; a
body in the blob store is left where it is.

Safety: each chunk is one transaction; a recompressed body replaces the old
bytes only after it decompressed (through the reader's own path) to bytes
whose sha256 is the row's. A body that does not verify (it did not decode, or
its bytes are not its hash's) is left exactly as it is and counted in
``meta`` (``compact.damaged``): damage is reported, never repaired in
silence. The cursor ``compact.bodies`` (the last body id done) commits with
its chunk, so a killed compaction resumes where it stopped and redoes
nothing. The search index needs no change: the bodies' FTS5 triggers fire on
INSERT and DELETE, not UPDATE, and the text a body decodes to is the same.

FTS5 keeps each table as segments that it merges only when enough pile up
on one level, so every term's list is written again in each segment (on the
bench, one merged segment is 9% smaller). A full merge rewrites the whole
index, so a table is merged again only once its cursor grew by ``FTS_GROWTH``
since the last merge (amortised: a row is rewritten a few times in its life),
in steps of ``MERGE_PAGES`` pages, each its own transaction.
"""

import sqlite3
import time
from dataclasses import dataclass
from typing import Final, NamedTuple

import zstandard

from orca.store import _bodies, _dicts
from orca.store._errors import StoreError
from orca.store._fts import _cursor as meta  # the meta table's counters, read and set
from orca.store._fts import _set_cursor as _set_meta
from orca.store._ids import Key, text

LEVEL: Final = 19
CHUNK: Final = 100  # bodies per transaction (~20 ms at ~200 us each)
MERGE_PAGES: Final = 50  # FTS5 pages per merge step (~200 KB; ~5 ms, 15 at most on the bench)
FTS_GROWTH: Final = 0.25  # merge a table again once its cursor grew by this share
CURSOR: Final = "compact.bodies"
DAMAGED: Final = "compact.damaged"
# Each search table and the catch-up cursor that measures its growth (see ``_fts``).
FTS_TABLES: Final = {"fts_bodies": "fts.bodies", "fts_attrs": "fts.spans", "fts_logs": "fts.logs"}


@dataclass(frozen=True, slots=True)
class CompactResult:
    """What one or more compaction steps did."""

    bodies: int = 0  # bodies looked at
    rewritten: int = 0  # of them, stored smaller
    saved_bytes: int = 0  # stored bytes less than before
    damaged: int = 0  # bodies that did not verify: left as they were
    merged: int = 0  # search-index merge steps that did work
    done: bool = True  # nothing left to do (until more is ingested)

    def __add__(self, other: "CompactResult") -> "CompactResult":
        return CompactResult(
            bodies=self.bodies + other.bodies,
            rewritten=self.rewritten + other.rewritten,
            saved_bytes=self.saved_bytes + other.saved_bytes,
            damaged=self.damaged + other.damaged,
            merged=self.merged + other.merged,
            done=other.done,
        )


class _Row(NamedTuple):
    """What recompressing a body needs to know of its row."""

    id: int
    sha256: Key  # as stored (see ``_ids``): compared as hex
    stored: int
    enc: str
    base: int | None


class _Packed(NamedTuple):
    """A candidate encoding of a body."""

    enc: str
    data: bytes
    base: int | None
    dict: int | None


def damaged(conn: sqlite3.Connection) -> int:
    """Bodies compaction found not decoding to their hash (left as they were), so far."""
    return meta(conn, DAMAGED)


def pending(conn: sqlite3.Connection) -> int:
    """Bodies not yet compacted (blob-store bodies are never compacted)."""
    return int(
        conn.execute(
            "SELECT count(*) FROM bodies WHERE id > ? AND enc != ?",
            (meta(conn, CURSOR), _bodies.BLOB),
        ).fetchone()[0]
    )


def has_dictionary(conn: sqlite3.Connection) -> bool:
    """Whether the store has trained its bodies' dictionary (compaction waits for one)."""
    row = conn.execute(
        "SELECT 1 FROM zstd_dicts WHERE kind = ? LIMIT 1", (_dicts.BODIES.name,)
    ).fetchone()
    return row is not None


class Compactor:
    """Makes one compression context per dictionary (making one costs ~1 ms with 64 KiB)."""

    def __init__(self, level: int = LEVEL) -> None:
        self.level = level
        self._by_dict: dict[int, zstandard.ZstdCompressor] = {}
        self._merging: set[str] = set()  # tables whose merge this object started

    def step(
        self,
        conn: sqlite3.Connection,
        dicts: _dicts.Trainer,
        *,
        bodies: int = CHUNK,
        pages: int = MERGE_PAGES,
        deadline: float | None = None,
    ) -> CompactResult:
        """One bounded unit of work (caller holds a write transaction): a chunk of bodies, else
        one merge step of one search table; ``done`` when neither had anything to do.

        ``dicts`` is the store's trainer of body dictionaries: compaction uses the
        dictionary new bodies get (the newest), never another kind's. ``deadline``
        (``time.monotonic()``) ends a chunk of bodies early: a slow machine makes
        smaller steps, not longer waits for the batch behind them.
        """
        newest = dicts.get(conn, lambda n: _bodies._samples(conn, n))
        if newest is not None:
            done = self._bodies(conn, newest.id, bodies, deadline)
            if done.bodies:
                return done
        for table, cursor in FTS_TABLES.items():
            if self._merge_step(conn, table, cursor, pages):
                return CompactResult(merged=1, done=False)
        return CompactResult()

    def _bodies(
        self, conn: sqlite3.Connection, dict_id: int, limit: int, deadline: float | None
    ) -> CompactResult:
        last = meta(conn, CURSOR)
        rows = [
            _Row._make(r)
            for r in conn.execute(
                "SELECT id, sha256, stored, enc, base FROM bodies WHERE id > ? ORDER BY id LIMIT ?",
                (last, limit),
            )
        ]
        rewritten = saved = damaged = done = 0
        for row in rows:
            done += 1
            if deadline is not None and done > 1 and time.monotonic() >= deadline:
                done -= 1  # this one is the next step's
                break
            if row.enc == _bodies.BLOB:
                continue
            try:
                best = self._recompress(conn, row, dict_id)
            except (StoreError, zstandard.ZstdError):
                best = _DAMAGED
            if best is _DAMAGED:
                damaged += 1
                continue
            if best is None:
                continue
            conn.execute(
                "UPDATE bodies SET enc = ?, data = ?, stored = ?, base = ?, dict = ? WHERE id = ?",
                (best.enc, best.data, len(best.data), best.base, best.dict, row.id),
            )
            rewritten += 1
            saved += row.stored - len(best.data)
        if done:
            _set_meta(conn, CURSOR, rows[done - 1].id)
        if damaged:
            _set_meta(conn, DAMAGED, meta(conn, DAMAGED) + damaged)
        return CompactResult(
            bodies=done, rewritten=rewritten, saved_bytes=saved, damaged=damaged, done=False
        )

    def _recompress(self, conn: sqlite3.Connection, row: _Row, dict_id: int) -> "_Packed | None":
        """The smallest verified encoding of a body if it beats the stored one; ``_DAMAGED``
        when the stored body does not decode to its hash."""
        data = _bodies.load(conn, "id", row.id)
        if data is None or _bodies.digest(data) != text(row.sha256):
            return _DAMAGED
        base = None
        options = [_Packed("zstd", self._compressor(conn, dict_id).compress(data), None, dict_id)]
        if row.enc == "zstd-ref" and row.base is not None:
            base = _bodies.load(conn, "id", row.base)
            if base is not None:
                ref = zstandard.ZstdCompressor(
                    level=self.level, dict_data=_bodies._dict(base), write_dict_id=False
                ).compress(data)
                options.append(_Packed("zstd-ref", ref, row.base, None))
        best = min(options, key=lambda p: len(p.data))
        if len(best.data) >= row.stored:
            return None
        back = (
            _dicts.decompress(conn, dict_id, best.data)
            if best.dict is not None
            else _bodies.decode(best.enc, best.data, base)
        )
        if _bodies.digest(back) != text(row.sha256):
            return None  # never replace a body with bytes that do not read back as it
        return best

    def _compressor(self, conn: sqlite3.Connection, dict_id: int) -> zstandard.ZstdCompressor:
        found = self._by_dict.get(dict_id)
        if found is None:
            data = _dicts.dictionary(conn, dict_id)
            if data is None:
                raise StoreError(f"zstd dictionary {dict_id} is missing: the store is damaged")
            found = self._by_dict[dict_id] = zstandard.ZstdCompressor(
                level=self.level, dict_data=data, write_dict_id=False
            )
        return found

    def _merge_step(self, conn: sqlite3.Connection, table: str, cursor: str, pages: int) -> bool:
        """One merge step of ``table`` when it is due; True when it did work."""
        key = f"compact.{table}"
        now = meta(conn, cursor)
        if table not in self._merging:
            last = meta(conn, key)
            if now <= last or (last and now < last * (1 + FTS_GROWTH)):
                return False
            self._merging.add(table)
            step = -pages  # negative: every segment on one level, merged down to one
        else:
            step = pages  # positive: go on with the merge begun
        before = conn.total_changes
        try:
            conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('merge', ?)", (step,))
        except BaseException:
            self._merging.discard(table)  # rolled back: the next step begins it again
            raise
        if conn.total_changes - before >= 2:  # FTS5's sign of work done
            return True
        self._merging.discard(table)
        _set_meta(conn, key, now)
        return False


_DAMAGED: Final = _Packed("damaged", b"", None, None)  # a marker, never written
