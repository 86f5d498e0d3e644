"""What ``orca status`` reads from the store: sources, writers, quarantine, totals."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from orca.store import _compact, _dicts


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One journal segment as the store knows it."""

    name: str
    writer: str | None
    pid: int | None
    offset: int
    records: int
    quarantined: int
    deleted_ns: int | None


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One writer process instance (pid + start) and what it reported."""

    writer: str
    pid: int
    pstart: int | None
    host: str | None
    started_ns: int | None
    last_ns: int | None
    heartbeat_ns: int | None
    exited_ns: int | None
    crashed_ns: int | None
    dropped: int


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """One line that could not be ingested: where it is and why."""

    source: str
    offset: int
    length: int
    reason: str
    preview: bytes
    ts_ns: int


@dataclass(frozen=True, slots=True)
class StoreTotals:
    """Sizes and counts: the store at a glance."""

    file_bytes: int  # the SQLite file plus its WAL
    spans: int
    logs: int
    links: int
    traces: int
    quarantined: int
    bodies: int
    body_bytes: int  # original bytes of the distinct bodies
    body_stored_bytes: int  # bytes on disk after zstd
    body_referenced_bytes: int  # original bytes summed over every reference
    bodies_to_compact: int = 0  # stored at ingest's fast level, not yet recompressed
    bodies_damaged: int = 0  # bodies compaction found not decoding to their hash (left as is)
    # None: the bodies' zstd dictionary is trained; else compaction waits for it, trained
    # once the store holds this many compressible bodies
    dictionary_after_bodies: int | None = None

    @property
    def dedup_ratio(self) -> float:
        """Bytes the spans carried per byte stored (≥ 1 when de-dup and compression pay)."""
        return (
            self.body_referenced_bytes / self.body_stored_bytes if self.body_stored_bytes else 1.0
        )


def sources(conn: sqlite3.Connection) -> list[SourceRow]:
    rows = conn.execute(
        "SELECT s.name, p.writer, p.pid, s.offset, s.records, s.quarantined, s.deleted_ns"
        " FROM sources s LEFT JOIN processes p ON p.id = s.proc_id ORDER BY s.id"
    )
    return [SourceRow(*r) for r in rows]


def processes(conn: sqlite3.Connection) -> list[ProcessRow]:
    rows = conn.execute(
        "SELECT writer, pid, pstart, host, started_ns, last_ns, heartbeat_ns, exited_ns,"
        " crashed_ns, dropped FROM processes ORDER BY id"
    )
    return [ProcessRow(*r) for r in rows]


def quarantine(conn: sqlite3.Connection, limit: int | None) -> list[QuarantineRow]:
    sql = "SELECT source, offset, length, reason, preview, ts_ns FROM quarantine ORDER BY id"
    args: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        args = (limit,)
    return [
        QuarantineRow(source, offset, length, reason, bytes(preview), ts_ns)
        for source, offset, length, reason, preview, ts_ns in conn.execute(sql, args)
    ]


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def totals(conn: sqlite3.Connection, path: Path) -> StoreTotals:
    size = 0
    for suffix in ("", "-wal"):
        try:
            size += Path(str(path) + suffix).stat().st_size
        except FileNotFoundError:
            pass
    bodies, body_bytes, stored, referenced = conn.execute(
        "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(stored), 0),"
        " coalesce(sum(size * refs), 0) FROM bodies"
    ).fetchone()
    return StoreTotals(
        file_bytes=size,
        spans=_count(conn, "spans"),
        logs=_count(conn, "logs"),
        links=_count(conn, "links"),
        traces=_count(conn, "traces"),
        quarantined=_count(conn, "quarantine"),
        bodies=bodies,
        body_bytes=body_bytes,
        body_stored_bytes=stored,
        body_referenced_bytes=referenced,
        bodies_to_compact=_compact.pending(conn),
        bodies_damaged=_compact.damaged(conn),
        dictionary_after_bodies=None if _compact.has_dictionary(conn) else _dicts.TRAIN_AFTER,
    )
