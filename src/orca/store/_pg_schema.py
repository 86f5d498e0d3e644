"""The PostgreSQL schema and its versioned migrations.

The same tables as SQLite (``_schema``), shaped for many writers:

* ``sources``, ``processes``, ``quarantine`` and the ``ledger`` mirror are keyed
  by *origin* (host name and home path): each collector owns its offsets and
  writers, so segment names and ledger ids that repeat across hosts never mix.
* ``spans`` is partitioned by ``day`` (UTC day number of its trace's start), one
  partition a day made on demand, so retention drops whole partitions instead
  of deleting row by row. A span's open and close attributes are kept apart
  (``attrs_open``, ``attrs_close``) and merged on read: no JSON merge in SQL,
  and the key order readers print is SQLite's.
* ``logs`` and ``links`` carry their record's identity (source id, byte
  offset): a re-applied batch hits ``ON CONFLICT DO NOTHING``.
* ``bodies`` are content addressed (sha256) and shared by every origin; search
  reads GIN indexes over ``to_tsvector`` of the stored text (expression
  indexes: no second copy of any text) and, for zstd bodies, a ``tsvector``
  of lexemes computed at ingest.

The version lives in ``orca_schema``; migrations run under an advisory lock,
so collectors starting together migrate once.
"""

from typing import Final

TS_CONFIG: Final = "simple"  # no stemming, no stop words: identifiers match as written
# What search sees, as in SQLite: a span's name and its string attributes as "key value"
# (open's and close's), a log's message and its string attributes.
ATTRS_TSV: Final = (
    f"to_tsvector('{TS_CONFIG}', name || ' ' || orca_attr_text(attrs_open) || ' '"
    " || orca_attr_text(attrs_close))"
)
LOGS_TSV: Final = f"to_tsvector('{TS_CONFIG}', msg || ' ' || orca_attr_text(attrs))"
MIGRATE_LOCK: Final = 0x0_0C_A5_70_2E  # pg_advisory_xact_lock key of migrations
PARTITION_LOCK: Final = 0x0_0C_A5_70_2F  # ... of creating day partitions

MIGRATIONS: Final[list[list[str]]] = [
    # version 1
    [
        # "key value" of each string attribute, in order (SQLite's _fts._attr_text).
        """CREATE FUNCTION orca_attr_text(attrs TEXT) RETURNS TEXT
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(string_agg(e.key || ' ' || e.value, ' ' ORDER BY e.ord), '')
            FROM json_each_text(coalesce(attrs, '{}')::json) WITH ORDINALITY AS e(key, value, ord)
            WHERE json_typeof(attrs::json -> e.key) = 'string'
        $$""",
        """CREATE TABLE processes (
            id BIGSERIAL PRIMARY KEY,
            origin TEXT NOT NULL,
            writer TEXT NOT NULL,
            pid BIGINT NOT NULL,
            pstart BIGINT,
            host TEXT,
            argv TEXT,
            started_ns BIGINT,
            last_ns BIGINT,
            heartbeat_ns BIGINT,
            exited_ns BIGINT,
            crashed_ns BIGINT,
            dropped BIGINT NOT NULL DEFAULT 0,
            UNIQUE (origin, writer)
        )""",
        """CREATE TABLE sources (
            id BIGSERIAL PRIMARY KEY,
            origin TEXT NOT NULL,
            name TEXT NOT NULL,
            proc_id BIGINT,
            "offset" BIGINT NOT NULL DEFAULT 0,
            records BIGINT NOT NULL DEFAULT 0,
            quarantined BIGINT NOT NULL DEFAULT 0,
            deleted_ns BIGINT,
            UNIQUE (origin, name)
        )""",
        """CREATE TABLE traces (
            seq BIGSERIAL,
            trace_id TEXT PRIMARY KEY,
            start_ns BIGINT NOT NULL,
            day INTEGER NOT NULL,
            conversation_id TEXT,
            pinned BOOLEAN NOT NULL DEFAULT false
        )""",
        "CREATE INDEX traces_start ON traces(start_ns)",
        "CREATE INDEX traces_conversation ON traces(conversation_id)"
        " WHERE conversation_id IS NOT NULL",
        "CREATE SEQUENCE span_seq",
        """CREATE TABLE spans (
            seq BIGINT NOT NULL DEFAULT nextval('span_seq'),
            day INTEGER NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_id TEXT,
            name TEXT NOT NULL,
            component TEXT NOT NULL,
            start_ns BIGINT NOT NULL,
            end_ns BIGINT,
            status TEXT NOT NULL DEFAULT 'unfinished',
            attrs_open TEXT,
            attrs_close TEXT,
            request_body TEXT,
            response_body TEXT,
            request_body_bytes BIGINT NOT NULL DEFAULT 0,
            response_body_bytes BIGINT NOT NULL DEFAULT 0,
            proc_id BIGINT,
            synthetic BOOLEAN NOT NULL DEFAULT false,
            model TEXT,
            tool TEXT,
            input_tokens BIGINT,
            output_tokens BIGINT,
            cache_read_tokens BIGINT,
            cache_write_tokens BIGINT,
            cost DOUBLE PRECISION,
            PRIMARY KEY (trace_id, span_id, day)
        ) PARTITION BY RANGE (day)""",
        "CREATE INDEX spans_span ON spans(span_id)",
        "CREATE INDEX spans_start ON spans(start_ns)",
        "CREATE INDEX spans_open ON spans(proc_id) WHERE end_ns IS NULL",
        "CREATE INDEX spans_name ON spans(name, start_ns)",
        f"CREATE INDEX spans_search ON spans USING gin (({ATTRS_TSV}))",
        """CREATE TABLE logs (
            id BIGSERIAL PRIMARY KEY,
            source_id BIGINT NOT NULL,
            off BIGINT NOT NULL,
            ts_ns BIGINT NOT NULL,
            level TEXT NOT NULL,
            msg TEXT NOT NULL,
            component TEXT NOT NULL,
            trace_id TEXT,
            span_id TEXT,
            attrs TEXT,
            UNIQUE (source_id, off)
        )""",
        "CREATE INDEX logs_trace ON logs(trace_id, span_id) WHERE trace_id IS NOT NULL",
        f"CREATE INDEX logs_search ON logs USING gin (({LOGS_TSV}))",
        """CREATE TABLE links (
            id BIGSERIAL PRIMARY KEY,
            source_id BIGINT NOT NULL,
            off BIGINT NOT NULL,
            ts_ns BIGINT NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            to_trace_id TEXT NOT NULL,
            to_span_id TEXT NOT NULL,
            reason TEXT,
            attrs TEXT,
            UNIQUE (source_id, off)
        )""",
        "CREATE INDEX links_from ON links(trace_id, span_id)",
        "CREATE INDEX links_to ON links(to_trace_id, to_span_id)",
        """CREATE TABLE bodies (
            seq BIGSERIAL,
            sha256 TEXT PRIMARY KEY,
            size BIGINT NOT NULL,
            stored BIGINT NOT NULL,
            enc TEXT NOT NULL,
            data BYTEA NOT NULL,
            first_ns BIGINT NOT NULL,
            trace_id TEXT,
            span_id TEXT,
            tsv TSVECTOR NOT NULL
        )""",
        "CREATE INDEX bodies_seq ON bodies(seq)",
        "CREATE INDEX bodies_search ON bodies USING gin (tsv)",
        """CREATE TABLE quarantine (
            id BIGSERIAL PRIMARY KEY,
            source_id BIGINT NOT NULL,
            off BIGINT NOT NULL,
            length BIGINT NOT NULL,
            reason TEXT NOT NULL,
            preview BYTEA NOT NULL,
            ts_ns BIGINT NOT NULL,
            UNIQUE (source_id, off)
        )""",
        """CREATE TABLE rollups (
            day TEXT NOT NULL,
            name TEXT NOT NULL,
            model TEXT NOT NULL,
            component TEXT NOT NULL,
            span_count BIGINT NOT NULL,
            error_count BIGINT NOT NULL,
            duration_sum_ns BIGINT NOT NULL,
            duration_p95_ns BIGINT,
            hist TEXT NOT NULL,
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            cache_read_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL,
            cost DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (day, name, model, component)
        )""",
        """CREATE TABLE ledger (
            origin TEXT NOT NULL,
            id BIGINT NOT NULL,
            ts_ns BIGINT NOT NULL,
            kind TEXT NOT NULL,
            run TEXT,
            trace_id TEXT,
            span_id TEXT,
            actor TEXT,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            payload TEXT,
            erased BOOLEAN NOT NULL DEFAULT false,
            signature TEXT,
            key_id TEXT,
            PRIMARY KEY (origin, id)
        )""",
        "CREATE INDEX ledger_trace ON ledger(trace_id) WHERE trace_id IS NOT NULL",
        "CREATE INDEX ledger_run ON ledger(run) WHERE run IS NOT NULL",
        "CREATE INDEX ledger_ts ON ledger(ts_ns)",
    ],
]

# version 2: the attribute text parses each JSON document once (json_each), not once per
# key (json_typeof(attrs::json -> key)): same text, a third of the ingest cost of a span.
MIGRATIONS.append(
    [
        """CREATE OR REPLACE FUNCTION orca_attr_text(attrs TEXT) RETURNS TEXT
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(string_agg(e.key || ' ' || (e.value #>> '{}'), ' ' ORDER BY e.ord), '')
            FROM json_each(coalesce(attrs, '{}')::json) WITH ORDINALITY AS e(key, value, ord)
            WHERE json_typeof(e.value) = 'string'
        $$""",
    ]
)

# The PostgreSQL schema this ORCA reads and writes (table orca_schema); older ones migrate.
SCHEMA_VERSION: Final = len(MIGRATIONS)
DAY_NS: Final = 86_400 * 10**9


def day_of(ts_ns: int) -> int:
    """UTC day number (days since the epoch) of a timestamp: the partition key."""
    return ts_ns // DAY_NS


def partition_ddl(day: int) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS spans_d{day} PARTITION OF spans"
        f" FOR VALUES FROM ({day}) TO ({day + 1})"
    )
