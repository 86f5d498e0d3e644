"""Search results (ids, order, snippets) are those of the content-copy index, on a fixed corpus.

The golden file was written by the search of schema version 3 (FTS5 tables
holding a copy of every text); the index that stores no text must give the
same answers. Shapes that stress the index: words shared by many documents (ranking by time
and the limit), multi-token words (``gpt-4o``, ``api.example.com``, the phrase
path), diacritics and case folding, quotes in the query, a span whose close
arrives in a later batch (re-indexed), a binary body (not searchable), and the
same word in logs, attributes and bodies.
"""

import base64
import dataclasses
import random
import sqlite3
from dataclasses import astuple
from pathlib import Path
from typing import Any, Final

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.store import SQLiteStore, _attrs, items_from
from orca.store._fts import body_text, log_text, span_text
from orca.store._ids import text_or_none
from orca.testing import temp_home

T0: Final = 1_750_000_000_000_000_000
WORDS: Final = [
    "refund",
    "order",
    "invoice",
    "shipping",
    "parcel",
    "courier",
    "warehouse",
    "customer",
    "ticket",
    "agent",
    "escalate",
    "policy",
    "weather",
    "forecast",
    "umbrella",
    "storm",
    "lookup",
    "account",
    "password",
    "reset",
    "latency",
    "timeout",
    "retry",
    "budget",
    "token",
    "model",
    "prompt",
    "answer",
    "summary",
    "context",
]
SPECIAL: Final = [
    "gpt-4o",
    "api.example.com",
    "Café",
    "naïve",
    "ZEBRA",
    'say "hello"',
    "x_y_z",
    "order#1234",
]

QUERIES: Final[list[dict[str, Any]]] = [
    {"text": "refund"},
    {"text": "refund order"},
    {"text": "REFUND", "where": "bodies"},
    {"text": "gpt-4o"},
    {"text": "api.example.com", "where": "attrs"},
    {"text": "cafe"},
    {"text": "naive", "where": "logs"},
    {"text": "zebra"},
    {"text": '"hello"'},
    {"text": 'say "hello'},
    {"text": "x_y_z"},
    {"text": "order#1234"},
    {"text": "1234"},
    {"text": "storm umbrella", "limit": 5},
    {"text": "customer", "limit": 50},
    {"text": "customer", "since_offset": 150},
    {"text": "verdict"},
    {"text": "binarymarker"},
    {"text": "nothing-matches-this"},
    {"text": "   "},
    {"text": "AND OR NOT"},
    {"text": "prompt*"},
    {"text": "context", "where": "bodies", "limit": 3},
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        words[rng.randrange(n)] = rng.choice(SPECIAL)
    return " ".join(words)


def corpus(seed: int = 20) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(first batch, second batch): 60 traces of spans, logs and bodies; late closes after."""
    rng = random.Random(seed)
    first: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    ts = T0
    for t in range(60):
        trace = f"{t + 1:032x}"
        base = {"v": 1, "component": "golden", "trace": trace}
        for s in range(4):
            ts += 1000
            span = f"{t * 16 + s + 1:016x}"
            attrs: dict[str, Any] = {"topic": _sentence(rng, 3), "n": s}
            if s == 1:
                attrs["gen_ai.request.model"] = rng.choice(["gpt-4o", "claude", "llama-3"])
            if s == 2:
                attrs["url"] = "https://api.example.com/v1/" + rng.choice(WORDS)
            rec: dict[str, Any] = {
                **base,
                "kind": "span-open",
                "ts": ts,
                "span": span,
                "name": rng.choice(["step", "tool-call", "turn"]),
                "attrs": attrs,
            }
            if s:
                rec["parent"] = f"{t * 16 + 1:016x}"
            if s == 1:
                rec["body"] = " ".join(_sentence(rng, 12) for _ in range(rng.randint(2, 30)))
            if s == 3 and t % 7 == 0:
                rec["body"] = base64.b64encode(b"\xff\xfe binarymarker \x00" + bytes([t])).decode()
                rec["body_enc"] = "base64"
            first.append(rec)
            ts += 7
            first.append(
                {
                    **base,
                    "kind": "log",
                    "ts": ts,
                    "level": "info",
                    "msg": _sentence(rng, 6),
                    "span": span,
                    "attrs": {"detail": _sentence(rng, 2), "k": s},
                }
            )
            close: dict[str, Any] = {
                **base,
                "kind": "span-close",
                "ts": ts + 500,
                "span": span,
                "status": "ok",
            }
            if s == 1:
                close["body"] = "answer: " + _sentence(rng, 20)
            if t % 5 == 0 and s == 0:
                close["attrs"] = {"verdict": "escalate " + rng.choice(WORDS)}
                late.append(close)  # closed in a later batch: the span is re-indexed
            else:
                first.append(close)
    return first, late


GOLDEN: Final = Path(__file__).parent / "golden" / "search.json"


def run_queries(store: SQLiteStore) -> list[dict[str, Any]]:
    """Every query of ``QUERIES`` with its hits, as JSON-ready rows."""
    out = []
    for q in QUERIES:
        since = T0 + q["since_offset"] * 1000 if "since_offset" in q else None
        hits = store.search(
            q["text"], where=q.get("where"), since_ns=since, limit=q.get("limit", 20)
        )
        out.append({"query": q, "hits": [dataclasses.asdict(h) for h in hits]})
    return out


def build(home: Path) -> SQLiteStore:
    """The corpus applied in two batches (the late closes second) to a new store."""
    first, late = corpus()
    store = SQLiteStore.open(home)
    store.apply(items_from(first, "golden-1"))
    store.catch_up_search()
    store.apply(items_from(late, "golden-2"))
    store.catch_up_search()  # the collector re-indexes the rows the late closes changed
    return store


def test_search_results_match_golden(home: Path) -> None:
    """Ids, order and snippets of every golden query are what the content-copy index gave."""
    with build(home) as store:
        got = run_queries(store)
    want = orjson.loads(GOLDEN.read_bytes())
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w, f"query {w['query']!r} differs"


if __name__ == "__main__":  # regenerate: python tests/store/test_search_golden.py <tmpdir>
    import sys

    with build(Path(sys.argv[1])) as s:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(orjson.dumps(run_queries(s), option=orjson.OPT_INDENT_2) + b"\n")


_LEGACY: Final = {
    "logs": "SELECT l.trace_id, l.span_id, l.ts_ns, snippet(old_logs, 0, '[', ']', '…', 12)"
    " FROM old_logs JOIN logs l ON l.id = old_logs.rowid WHERE old_logs MATCH ?"
    " ORDER BY l.ts_ns DESC LIMIT ?",
    "attrs": "SELECT s.trace_id, s.span_id, s.start_ns, snippet(old_attrs, 0, '[', ']', '…', 12)"
    " FROM old_attrs JOIN spans s ON s.id = old_attrs.rowid WHERE old_attrs MATCH ?"
    " ORDER BY s.start_ns DESC LIMIT ?",
    "bodies": "SELECT b.trace_id, b.span_id, b.first_ns, snippet(old_bodies, 0, '[', ']', '…', 12)"
    " FROM old_bodies JOIN bodies b ON b.id = old_bodies.rowid WHERE old_bodies MATCH ?"
    " ORDER BY b.first_ns DESC LIMIT ?",
}


def _legacy_index(path: Path) -> sqlite3.Connection:
    """The schema-3 content-copy tables beside the store's index, filled with the same texts."""
    conn = sqlite3.connect(path, isolation_level=None)
    _attrs.register(conn)  # span_text reads attributes through orca_attrs
    for name in ("old_logs", "old_attrs", "old_bodies"):
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING fts5(text, tokenize='unicode61')")
    conn.execute(f"INSERT INTO old_logs (rowid, text) SELECT l.id, {log_text('l')} FROM logs l")
    conn.execute(f"INSERT INTO old_attrs (rowid, text) SELECT s.id, {span_text('s')} FROM spans s")
    bodies = [(i, body_text(conn, i)) for (i,) in conn.execute("SELECT id FROM bodies").fetchall()]
    conn.executemany("INSERT INTO old_bodies (rowid, text) VALUES (?, ?)", bodies)
    return conn


def _legacy_search(conn: sqlite3.Connection, text: str, limit: int) -> list[tuple[Any, ...]]:
    query = " ".join('"' + w.replace('"', '""') + '"' for w in text.split())
    if not query:
        return []
    hits = [
        (*r, place) for place, sql in _LEGACY.items() for r in conn.execute(sql, (query, limit))
    ]
    hits.sort(key=lambda h: h[2], reverse=True)
    return [  # ids as the API shows them (blobs in the store since schema 5)
        (text_or_none(t), text_or_none(s), ts, place, snip)
        for t, s, ts, snip, place in hits[:limit]
    ]


_VOCAB: Final = [*WORDS[:8], *SPECIAL, "o'brien", "ÉCOLE", "4o-gpt", "a.b.c"]


@settings(max_examples=25, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=30), max_size=24),
    queries=st.lists(
        st.lists(st.sampled_from([*_VOCAB, "*", "-", "NEAR", '"']), min_size=1, max_size=3),
        min_size=1,
        max_size=6,
    ),
    limit=st.integers(1, 8),
)
def test_search_equals_the_content_copy_index(
    docs: list[list[str]], queries: list[list[str]], limit: int
) -> None:
    """On any corpus and query, hits and snippets equal those of the schema-3 index."""
    records: list[dict[str, Any]] = []
    for n, words in enumerate(docs):  # each text once as a log, an attribute and a body
        base = {"v": 1, "component": "p", "trace": f"{n + 1:032x}", "span": f"{n + 1:016x}"}
        text = " ".join(words)
        records.append(
            {
                **base,
                "kind": "span-open",
                "ts": 10 * n,
                "name": "s",
                "attrs": {"t": text},
                "body": f"{n} {text}",
            }
        )
        records.append({**base, "kind": "log", "ts": 10 * n + 1, "level": "info", "msg": text})
    with temp_home() as home, SQLiteStore.open(home) as store:
        if records:
            store.apply(items_from(records, "seg"))
        store.catch_up_search()
        old = _legacy_index(store.path)
        try:
            for words in queries:
                q = " ".join(words)
                got = [astuple(h) for h in store.search(q, limit=limit)]
                assert got == _legacy_search(old, q, limit), q
        finally:
            old.close()
