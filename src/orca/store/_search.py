"""``orca search``: the user's words against the contentless index, text read back for snippets.

The index (``_fts``) knows which rows hold which tokens, nothing more. So a
search runs in two steps:

1. candidates, newest first, from the index: every word quoted (FTS5 syntax
   made safe), all needed. A word that the tokenizer splits (``gpt-4o``,
   ``api.example.com``) is a phrase, which the bodies' ``detail=none`` index
   cannot match; there it asks for all of the word's tokens instead, a superset
   (logs and attributes keep positions and answer phrases themselves);
2. for the few rows shown, the text is read through the store (a row's
   expression, a body decompressed) into a small in-memory FTS5 table with
   the same tokenizer and full detail, where the user's own query runs again:
   that confirms phrase words and makes the snippet. A snippet depends only on
   its document and the query, so it is the one the content-copy index gave.

Only shown rows are read back: when every word is one token the candidates
need no check, and a search costs the index lookup plus ``limit`` reads.
"""

import dataclasses
import sqlite3
from collections.abc import Iterator
from typing import Any, Final, Literal

from orca.store import _fts
from orca.store._ids import Key, text_or_none
from orca.store._rows import SearchHit

Where = Literal["attrs", "bodies", "logs"]
_CHUNK: Final = 200  # candidates checked at once when a phrase word needs checking

_CANDIDATES: Final[dict[str, str]] = {
    "logs": "SELECT l.id, l.trace_id, l.span_id, l.ts_ns FROM fts_logs"
    " JOIN logs l ON l.id = fts_logs.rowid WHERE fts_logs MATCH ?",
    "attrs": "SELECT s.id, s.trace_id, s.span_id, s.start_ns FROM fts_attrs"
    " JOIN spans s ON s.id = fts_attrs.rowid WHERE fts_attrs MATCH ?",
    "bodies": "SELECT b.id, b.trace_id, b.span_id, b.first_ns FROM fts_bodies"
    " JOIN bodies b ON b.id = fts_bodies.rowid WHERE fts_bodies MATCH ?",
}
_TS: Final = {"logs": "l.ts_ns", "attrs": "s.start_ns", "bodies": "b.first_ns"}


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: each word quoted (no syntax to get wrong), all needed."""
    return " ".join(_quote(w) for w in text.split())


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class _Scratch:
    """A private in-memory FTS5 table (full detail, same tokenizer) for tokens and snippets."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE VIRTUAL TABLE doc USING fts5(text, tokenize='unicode61')")
        self.conn.execute("CREATE VIRTUAL TABLE doc_terms USING fts5vocab(doc, 'instance')")

    def tokens(self, word: str) -> list[str]:
        """How the index's tokenizer splits ``word`` (the same splitting a quoted query gets)."""
        self.conn.execute("DELETE FROM doc")
        self.conn.execute("INSERT INTO doc (rowid, text) VALUES (1, ?)", (word,))
        return [r[0] for r in self.conn.execute("SELECT term FROM doc_terms ORDER BY offset")]

    def run(self, texts: list[tuple[int, str | None]], query: str) -> dict[int, str]:
        """Which of ``texts`` match ``query``, each with its snippet."""
        self.conn.execute("DELETE FROM doc")
        self.conn.executemany("INSERT INTO doc (rowid, text) VALUES (?, ?)", texts)
        rows = self.conn.execute(
            "SELECT rowid, snippet(doc, 0, '[', ']', '…', 12) FROM doc WHERE doc MATCH ?",
            (query,),
        )
        return dict(rows)

    def close(self) -> None:
        self.conn.close()


def _texts(conn: sqlite3.Connection, place: Where, ids: list[int]) -> list[tuple[int, str | None]]:
    """The indexed text of rows ``ids`` of one place, read through the store."""
    if place == "bodies":
        return [(i, _fts.body_text(conn, i)) for i in ids]
    if place == "logs":
        table, expr = "logs", _fts.log_text("t")
    else:
        table, expr = "spans", _fts.span_text("t")
    marks = ",".join("?" * len(ids))
    return list(conn.execute(f"SELECT t.id, {expr} FROM {table} t WHERE t.id IN ({marks})", ids))


def _hit(trace: Key | None, span: Key | None, ts_ns: int, place: Where) -> SearchHit:
    """A hit without its snippet yet (ids as the API shows them)."""
    return SearchHit(text_or_none(trace), text_or_none(span), ts_ns, place, "")


def _candidates(
    conn: sqlite3.Connection, place: Where, match: str, since_ns: int | None, limit: int | None
) -> Iterator[tuple[int, Key | None, Key | None, int]]:
    sql = _CANDIDATES[place]
    args: list[Any] = [match]
    if since_ns is not None:
        sql += f" AND {_TS[place]} >= ?"
        args.append(since_ns)
    sql += f" ORDER BY {_TS[place]} DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return iter(conn.execute(sql, args))


def _place_hits(
    conn: sqlite3.Connection,
    scratch: _Scratch,
    place: Where,
    query: str,
    match: str,
    checked: bool,
    since_ns: int | None,
    limit: int,
) -> list[tuple[SearchHit, int]]:
    """Up to ``limit`` hits of one place, newest first, with their row ids (snippets later)."""
    if not checked or place not in _fts.POSITIONLESS:
        rows = _candidates(conn, place, query, since_ns, limit)
        return [(_hit(t, s, ts, place), i) for i, t, s, ts in rows]
    out: list[tuple[SearchHit, int]] = []
    rows = _candidates(conn, place, match, since_ns, None)
    while len(out) < limit:
        chunk = [r for _, r in zip(range(_CHUNK), rows, strict=False)]
        if not chunk:
            break
        ok = scratch.run(_texts(conn, place, [r[0] for r in chunk]), query)
        out.extend((_hit(t, s, ts, place), i) for i, t, s, ts in chunk if i in ok)
    return out[:limit]


def search(
    conn: sqlite3.Connection, text: str, *, where: Where | None, since_ns: int | None, limit: int
) -> list[SearchHit]:
    """Hits for ``text`` newest first, at most ``limit``, each with a snippet of its match."""
    words = text.split()
    query = fts_query(text)
    if not query or limit <= 0:
        return []
    scratch = _Scratch()
    try:
        parts: list[str] = []
        checked = False
        for word in words:
            tokens = scratch.tokens(word)
            if len(tokens) > 1:
                checked = True
                parts.extend(_quote(t) for t in tokens)
            else:
                parts.append(_quote(word))
        match = " ".join(parts)
        places: list[Where] = [where] if where is not None else ["logs", "attrs", "bodies"]
        found: list[tuple[SearchHit, int]] = []
        for place in places:
            found += _place_hits(conn, scratch, place, query, match, checked, since_ns, limit)
        found.sort(key=lambda f: f[0].ts_ns, reverse=True)
        found = found[:limit]
        snippets: dict[tuple[str, int], str] = {}
        for place in places:
            ids = [i for h, i in found if h.where == place]
            if ids:
                got = scratch.run(_texts(conn, place, ids), query)
                snippets.update(((place, i), s) for i, s in got.items())
        return [dataclasses.replace(h, snippet=snippets.get((h.where, i), "")) for h, i in found]
    finally:
        scratch.close()
