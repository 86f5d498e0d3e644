"""Working memory: a distilled, queryable recall layer derived from the ledger.

One memory entry per ledger entry, tagged ``wisdom``, ``causal-chain``,
``distillation`` and the lower-cased action kind; summary = actor (or kind);
content = compact args/result/metadata; provenance = the batch signature
that covers the ledger entry; linked to run and trace. Each memory entry is
keyed by a deterministic content hash, so ingesting the same ledger entry
twice is a no-op and :meth:`WorkingMemory.rebuild_from_ledger` gives exactly
what online ingestion (the :class:`MemorySink`) gave. The ledger stays the
ground truth; memory is derived and can always be thrown away and rebuilt.

Stored as one JSON line per memory entry in ``<home>/ledger/memory.ndjson``
(written, not fsync'd: it is rebuildable).
"""

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from orca._home import resolve_home
from orca.journal import AppendFile, JournalReader
from orca.ledger._format import Entry
from orca.ledger._read import LEDGER_DIR, read_entries

BASE_TAGS: Final = ("wisdom", "causal-chain", "distillation")
MEMORY_FILE: Final = "memory.ndjson"
MAX_CONTENT: Final = 4000


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    id: str
    entry_id: int
    ts: int
    kind: str
    tags: tuple[str, ...]
    summary: str
    content: str
    provenance: str | None
    key: str | None
    run: str | None
    trace: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entry_id": self.entry_id,
            "ts": self.ts,
            "kind": self.kind,
            "tags": list(self.tags),
            "summary": self.summary,
            "content": self.content,
            "provenance": self.provenance,
            "key": self.key,
            "run": self.run,
            "trace": self.trace,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MemoryEntry":
        return cls(**{**d, "tags": tuple(d["tags"])})


def _compact(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def derive(entry: Entry) -> MemoryEntry:
    """The memory entry for one ledger entry; a pure function of the entry."""
    content = (
        f"args={_compact(entry.args)}; result={_compact(entry.result)}; meta={_compact(entry.meta)}"
    )
    if len(content) > MAX_CONTENT:
        content = content[: MAX_CONTENT - 1] + "…"
    tags = (*BASE_TAGS, entry.kind.lower())
    summary = entry.actor or entry.kind
    basis = orjson.dumps(
        [entry.id, entry.kind, list(tags), summary, content, entry.run, entry.trace, entry.hash]
    )
    mid = hashlib.sha256(basis).hexdigest()
    return MemoryEntry(
        mid, entry.id, entry.ts, entry.kind, tags, summary, content,
        entry.signature, entry.key, entry.run, entry.trace,
    )  # fmt: skip


class WorkingMemory:
    """Memory entries by content hash, persisted as JSON lines; thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_id: dict[str, MemoryEntry] = {}
        self._order: list[MemoryEntry] = []
        self._file: AppendFile | None = None
        if path is not None:
            self._load(path)
            self._file = AppendFile(path)

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> "WorkingMemory":
        """The working memory of ``home`` (``<home>/ledger/memory.ndjson``)."""
        d = resolve_home(home) / LEDGER_DIR
        d.mkdir(parents=True, exist_ok=True)
        return cls(d / MEMORY_FILE)

    def _load(self, path: Path) -> None:
        try:
            f = path.open("rb")
        except FileNotFoundError:
            return
        with f:
            for line in JournalReader(f).lines():
                try:
                    m = MemoryEntry.from_dict(orjson.loads(line.data))
                except (orjson.JSONDecodeError, TypeError, KeyError):
                    continue  # derived data: a damaged line is rebuilt, not trusted
                self._add(m)

    def _add(self, m: MemoryEntry) -> bool:
        if m.id in self._by_id:
            return False
        self._by_id[m.id] = m
        self._order.append(m)
        return True

    def ingest(self, entry: Entry) -> bool:
        """Add the memory for one ledger entry; False when it was already there."""
        return self.ingest_many([entry]) == 1

    def ingest_many(self, entries: Iterable[Entry]) -> int:
        """Add memories for many entries with one write; returns how many were new."""
        new = [derive(e) for e in entries]
        with self._lock:
            added = [m for m in new if self._add(m)]
            if added and self._file is not None:
                self._file.append_many([orjson.dumps(m.to_dict()) + b"\n" for m in added])
        return len(added)

    def entries(self) -> list[MemoryEntry]:
        """All memories in ledger order (oldest first)."""
        with self._lock:
            return sorted(self._order, key=lambda m: m.entry_id)

    def query(
        self,
        *,
        tags: Sequence[str] | None = None,
        run: str | None = None,
        trace: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[MemoryEntry]:
        """Memories carrying every tag in ``tags`` (and matching run/trace/since), newest first."""
        want = {t.lower() for t in tags or ()}
        out: list[MemoryEntry] = []
        for m in sorted(self.entries(), key=lambda m: (m.ts, m.entry_id), reverse=True):
            if limit is not None and len(out) >= limit:
                break
            if want and not want.issubset(m.tags):
                continue
            if run is not None and m.run != run:
                continue
            if trace is not None and m.trace != trace:
                continue
            if since is not None and m.ts < since:
                continue
            out.append(m)
        return out

    def forget(self, entry_id: int) -> int:
        """Drop the memories derived from one ledger entry (after ``Ledger.forget``)."""
        with self._lock:
            gone = [m for m in self._order if m.entry_id == entry_id]
            for m in gone:
                del self._by_id[m.id]
            self._order = [m for m in self._order if m.entry_id != entry_id]
            self._rewrite()
        return len(gone)

    def rebuild_from_ledger(self, source: Path | str | os.PathLike[str]) -> int:
        """Throw memory away and derive it again from every signed ledger entry.

        ``source`` is a home, ledger directory or ledger file. Returns the count.
        """
        entries = read_entries(Path(source)).entries
        with self._lock:
            self._by_id.clear()
            self._order = []
            for e in entries:
                self._add(derive(e))
            self._rewrite()
            return len(self._order)

    def _rewrite(self) -> None:
        """Replace the file atomically with the current memories (caller holds the lock)."""
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(b"".join(orjson.dumps(m.to_dict()) + b"\n" for m in self._order))
        os.replace(tmp, self.path)
        if self._file is not None:
            self._file.close()
        self._file = AppendFile(self.path)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def forget_in_file(path: Path, entry_ids: Iterable[int]) -> int:
    """Drop the lines derived from ``entry_ids`` from a memory file on disk; how many.

    ``Ledger.forget`` calls this for ``<home>/ledger/memory.ndjson`` so an
    erasure reaches working memory even when no process has it open.
    """
    ids = set(entry_ids)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    keep: list[bytes] = []
    dropped = 0
    for line in data.splitlines(keepends=True):
        try:
            gone = orjson.loads(line).get("entry_id") in ids
        except (orjson.JSONDecodeError, AttributeError):
            gone = True  # derived and unreadable: rebuildable, and it might hold erased data
        if gone:
            dropped += 1
        else:
            keep.append(line)
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(b"".join(keep))
        os.replace(tmp, path)
    return dropped


class MemorySink:
    """Feeds working memory online: ``ledger.register_sink(MemorySink(memory))``."""

    name = "working-memory"

    def __init__(self, memory: WorkingMemory) -> None:
        self.memory = memory

    def on_entry(self, entry: Entry) -> None:
        self.memory.ingest(entry)

    def forget(self, entry_ids: list[int]) -> None:
        """The erase hook: drop the memories derived from erased entries."""
        for entry_id in entry_ids:
            self.memory.forget(entry_id)
