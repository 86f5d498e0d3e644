"""The SQLite schema and its migrations.

Each migration is a list of statements applied in one transaction; the
schema's version is SQLite's ``user_version``, so opening an older file
upgrades it in place and opening a newer one fails with a clear message.

Why it looks like this (measured on the 2-core bench machine): SQLite inserts
run ~5x faster into B-trees whose keys grow over time, so every hot table is
keyed by an integer rowid that grows with insertion, and the only index with
random keys is ``spans(span_id)`` (lookups by span id), besides ``spans_stats``
(version 3, keyed by span name: it costs the collector ~15% of its ingest rate
so that ``orca stats`` never reads spans into Python). Idempotency of logs and
links does not need a unique index at all: a batch commits its rows together
with each segment's new offset, and :meth:`SQLiteStore.apply` skips records
below the committed offset, so re-applying a batch changes nothing. Spans are
merged (open + close) on ``(trace_id, span_id)``, whose leading trace id begins
with a millisecond time prefix, so that index appends too.
"""

from typing import Final

from orca.store._aggregate import MIGRATION as STATS_MIGRATION
from orca.store._dicts import KIND_MIGRATION as DICTS_KIND_MIGRATION
from orca.store._dicts import MIGRATION as DICTS_MIGRATION
from orca.store._fts import BODY_TRIGGERS, SPAN_TRIGGERS_MIGRATION, SPAN_UPDATE_TRIGGER
from orca.store._fts import MIGRATION as SEARCH_MIGRATION
from orca.store._hashes import MIGRATION as HASHES_MIGRATION
from orca.store._ids import KEY_FUNCTION as KEY
from orca.store._ledger import MIGRATION as LEDGER_MIGRATION

MIGRATIONS: Final[list[list[str]]] = [
    # version 1
    [
        """CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,          -- segment file name (or another source's name)
            proc_id INTEGER,                    -- processes.id of the writer, when known
            offset INTEGER NOT NULL DEFAULT 0,  -- first byte not yet ingested
            records INTEGER NOT NULL DEFAULT 0, -- records ingested from it
            quarantined INTEGER NOT NULL DEFAULT 0,
            deleted_ns INTEGER                  -- when the collector removed the file
        )""",
        """CREATE TABLE processes (
            id INTEGER PRIMARY KEY,
            writer TEXT NOT NULL UNIQUE,        -- '<pid>-<start_ns>' from the segment name
            pid INTEGER NOT NULL,
            pstart INTEGER,                     -- start time in clock ticks: defeats pid reuse
            host TEXT,
            argv TEXT,                          -- JSON list
            started_ns INTEGER,
            last_ns INTEGER,                    -- newest record seen from it
            heartbeat_ns INTEGER,               -- newest heartbeat seen (NULL: never sent one)
            exited_ns INTEGER,                  -- clean exit record seen
            crashed_ns INTEGER,                 -- when the collector declared it dead
            dropped INTEGER NOT NULL DEFAULT 0  -- records the writer reported dropping
        )""",
        """CREATE TABLE traces (
            id INTEGER PRIMARY KEY,
            trace_id TEXT NOT NULL UNIQUE,
            start_ns INTEGER NOT NULL,
            conversation_id TEXT,
            pinned INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX traces_start ON traces(start_ns)",
        "CREATE INDEX traces_conversation ON traces(conversation_id)"
        " WHERE conversation_id IS NOT NULL",
        """CREATE TABLE spans (
            id INTEGER PRIMARY KEY,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_id TEXT,
            name TEXT NOT NULL,
            component TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER,                     -- NULL: no close seen (unfinished)
            status TEXT NOT NULL DEFAULT 'unfinished',  -- ok | error | unfinished
            attrs TEXT,                         -- JSON object (open attrs, updated by close)
            request_body TEXT,                  -- sha256 of the open record's body
            response_body TEXT,                 -- sha256 of the close record's body
            request_body_bytes INTEGER NOT NULL DEFAULT 0,
            response_body_bytes INTEGER NOT NULL DEFAULT 0,
            proc_id INTEGER,                    -- processes.id of the writer
            synthetic INTEGER NOT NULL DEFAULT 0,
            model TEXT,                         -- gen_ai.request.model / gen_ai.response.model
            tool TEXT,                          -- gen_ai.tool.name
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            cost REAL,                          -- orca.cost.usd
            chg INTEGER NOT NULL DEFAULT 0,     -- batch that last changed the row (search catch-up)
            UNIQUE (trace_id, span_id)
        )""",
        "CREATE INDEX spans_span ON spans(span_id)",
        "CREATE INDEX spans_start ON spans(start_ns)",
        "CREATE INDEX spans_chg ON spans(chg)",
        "CREATE INDEX spans_open ON spans(proc_id) WHERE end_ns IS NULL",
        """CREATE TABLE logs (
            id INTEGER PRIMARY KEY,
            ts_ns INTEGER NOT NULL,
            level TEXT NOT NULL,
            msg TEXT NOT NULL,
            component TEXT NOT NULL,
            trace_id TEXT,
            span_id TEXT,
            attrs TEXT
        )""",
        "CREATE INDEX logs_trace ON logs(trace_id, span_id) WHERE trace_id IS NOT NULL",
        """CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            ts_ns INTEGER NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            to_trace_id TEXT NOT NULL,
            to_span_id TEXT NOT NULL,
            reason TEXT,
            attrs TEXT
        )""",
        "CREATE INDEX links_from ON links(trace_id, span_id)",
        "CREATE INDEX links_to ON links(to_trace_id, to_span_id)",
        """CREATE TABLE bodies (
            id INTEGER PRIMARY KEY,             -- insertion order: retention evicts lowest first
            sha256 TEXT NOT NULL UNIQUE,        -- of the original bytes
            size INTEGER NOT NULL,              -- original bytes
            stored INTEGER NOT NULL,            -- bytes in data
            enc TEXT NOT NULL,                  -- 'raw' | 'zstd' | 'zstd-ref'
            data BLOB NOT NULL,
            base INTEGER,                       -- zstd-ref: bodies.id of the dictionary body
            refs INTEGER NOT NULL DEFAULT 1,    -- span records that carried it
            first_ns INTEGER NOT NULL,
            trace_id TEXT,                      -- first span that carried it (search hits)
            span_id TEXT
        )""",
        "CREATE INDEX bodies_base ON bodies(base) WHERE base IS NOT NULL",
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,               -- segment file name
            offset INTEGER NOT NULL,            -- byte offset of the line
            length INTEGER NOT NULL,            -- bytes of the line (newline included)
            reason TEXT NOT NULL,
            preview BLOB NOT NULL,              -- first 200 bytes
            ts_ns INTEGER NOT NULL,             -- when it was quarantined
            UNIQUE (source, offset)
        )""",
        """CREATE TABLE rollups (
            day TEXT NOT NULL,                  -- UTC date, YYYY-MM-DD
            name TEXT NOT NULL,
            model TEXT NOT NULL,                -- '' when none
            component TEXT NOT NULL,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            duration_sum_ns INTEGER NOT NULL,
            duration_p95_ns INTEGER,            -- estimate from hist
            hist TEXT NOT NULL,                 -- JSON {bucket: count}, quarter-octave buckets
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cost REAL NOT NULL,
            PRIMARY KEY (day, name, model, component)
        )""",
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,               -- cursors: fts.spans, fts.logs, fts.bodies, batch
            value INTEGER NOT NULL
        )""",
        # Full-text search, filled lazily from the cursors in meta (replaced in version 4).
        "CREATE VIRTUAL TABLE fts_attrs USING fts5(text, tokenize='unicode61')",
        "CREATE VIRTUAL TABLE fts_logs USING fts5(text, tokenize='unicode61')",
        "CREATE VIRTUAL TABLE fts_bodies USING fts5(text, tokenize='unicode61')",
    ],
    # version 2: the ledger mirror (see _ledger.py)
    LEDGER_MIGRATION,
    # version 3: the covering index of span stats grouped in SQL (see _aggregate.py)
    STATS_MIGRATION,
    # version 4: a search index that holds no copy of the text (see _fts.py)
    SEARCH_MIGRATION,
    # version 5: bodies name their trained zstd dictionary (see _dicts.py), the unique
    # index of 64-character hashes (45 bytes a span on bench/storage.py) becomes an index
    # of their first 12 characters (the writer checks the full hash), and hex trace and
    # span ids are stored as blobs (see _ids.py).
    [
        "ALTER TABLE bodies RENAME TO bodies_v4",
        """CREATE TABLE bodies (
            id INTEGER PRIMARY KEY,             -- insertion order: retention evicts lowest first
            sha256 TEXT NOT NULL,               -- of the original bytes (one row per hash)
            size INTEGER NOT NULL,              -- original bytes
            stored INTEGER NOT NULL,            -- bytes in data
            enc TEXT NOT NULL,                  -- 'raw' | 'zstd' | 'zstd-ref' | 'blob'
            data BLOB NOT NULL,
            base INTEGER,                       -- zstd-ref: bodies.id of the dictionary body
            refs INTEGER NOT NULL DEFAULT 1,    -- span records that carried it
            first_ns INTEGER NOT NULL,
            trace_id TEXT,                      -- first span that carried it (search hits)
            span_id TEXT,
            dict INTEGER                        -- zstd: zstd_dicts.id it was compressed with
        )""",
        "INSERT INTO bodies (id, sha256, size, stored, enc, data, base, refs, first_ns,"
        " trace_id, span_id) SELECT id, sha256, size, stored, enc, data, base, refs, first_ns,"
        f" {KEY}(trace_id), {KEY}(span_id) FROM bodies_v4",
        "DROP TABLE bodies_v4",  # its index and triggers go with it
        "CREATE INDEX bodies_sha ON bodies(substr(sha256, 1, 12))",
        "CREATE INDEX bodies_base ON bodies(base) WHERE base IS NOT NULL",
        *BODY_TRIGGERS,
        *DICTS_MIGRATION,
        # hex ids become blobs (see _ids.py); the text a span indexes does not change
        "DROP TRIGGER fts_spans_update",
        f"UPDATE spans SET trace_id = {KEY}(trace_id), span_id = {KEY}(span_id),"
        f" parent_id = {KEY}(parent_id)",
        SPAN_UPDATE_TRIGGER,
        f"UPDATE traces SET trace_id = {KEY}(trace_id)",
        f"UPDATE logs SET trace_id = {KEY}(trace_id), span_id = {KEY}(span_id)",
        f"UPDATE links SET trace_id = {KEY}(trace_id), span_id = {KEY}(span_id),"
        f" to_trace_id = {KEY}(to_trace_id), to_span_id = {KEY}(to_span_id)",
    ],
    # version 6: body hashes (bodies.sha256, spans.request_body / response_body) stored
    # as 32-byte blobs, indexed by their first 6 bytes (see _hashes.py); span attributes
    # compressed with a dictionary trained on them (see _attrs.py): rows already written
    # stay JSON text, which readers accept as well.
    [*HASHES_MIGRATION, *DICTS_KIND_MIGRATION, *SPAN_TRIGGERS_MIGRATION],
]

# The SQLite schema this ORCA reads and writes (PRAGMA user_version); older files migrate.
SCHEMA_VERSION: Final = len(MIGRATIONS)
