"""Full-text search over PostgreSQL: GIN indexes over ``to_tsvector`` (no copy of the text).

Hits, order and snippets are SQLite's (the contract suite compares them): the
user's words are quoted phrases, all needed; the text of a hit is read back
(a log's message and string attributes, a span's name and string attributes,
a body decompressed) and its snippet is cut as FTS5's ``snippet`` cuts it.
"""

import re
from typing import Any, Final, Literal

import orjson

from orca.store import _bodies
from orca.store._pg_read import Conn, _dicts
from orca.store._pg_schema import ATTRS_TSV, LOGS_TSV, TS_CONFIG
from orca.store._rows import SearchHit

_SEARCH: Final[dict[str, str]] = {
    "logs": "SELECT trace_id, span_id, ts_ns AS ts, msg AS head, attrs AS a, NULL AS b"
    f" FROM logs WHERE {LOGS_TSV} @@ q",
    "attrs": "SELECT trace_id, span_id, start_ns AS ts, name AS head, attrs_open AS a,"
    f" attrs_close AS b FROM spans WHERE {ATTRS_TSV} @@ q",
    "bodies": "SELECT trace_id, span_id, first_ns AS ts, enc, data FROM bodies WHERE tsv @@ q",
}
_TS: Final = {"logs": "ts_ns", "attrs": "start_ns", "bodies": "first_ns"}
_TOKEN: Final = re.compile(r"[^\W_]+", re.UNICODE)  # unicode61: letters and digits
SNIPPET_TOKENS: Final = 12


def ts_query(text: str) -> str:
    """The user's words, each a quoted phrase, all needed (no syntax to get wrong)."""
    return " ".join('"' + w.replace('"', " ") + '"' for w in text.split() if w.strip('"'))


def attr_text(*attrs: str | None) -> str:
    """String attributes as "key value" (the open's updated by the close's), as SQLite indexes."""
    merged: dict[str, Any] = {}
    for a in attrs:
        if a:
            merged.update(orjson.loads(a))
    return " ".join(f"{k} {v}" for k, v in merged.items() if isinstance(v, str))


def snippet(text: str, words: list[str], width: int = SNIPPET_TOKENS) -> str:
    """FTS5's ``snippet(…, '[', ']', '…', 12)``: a window of tokens around the matches.

    The window holds the first match and as many following ones as fit,
    centred on them; the text between tokens is kept as written; ``…`` marks
    a cut; at either end of the text the window takes the text up to it.
    """
    tokens = list(_TOKEN.finditer(text))
    wanted = {w.lower() for w in words}
    hits = [i for i, t in enumerate(tokens) if t.group().lower() in wanted]
    if not tokens:
        return text
    first = hits[0] if hits else 0
    last = max((h for h in hits if h < first + width), default=first)
    start = max(0, first - (width - (last - first + 1)) // 2)
    start = max(0, min(start, len(tokens) - width))
    end = min(len(tokens), start + width)
    out = ["…" if start > 0 else text[: tokens[0].start()]]
    for i in range(start, end):
        t = tokens[i]
        out.append(f"[{t.group()}]" if i in hits else t.group())
        if i + 1 < end:
            out.append(text[t.end() : tokens[i + 1].start()])
    out.append("…" if end < len(tokens) else text[tokens[-1].end() :])
    return "".join(out)


def search(
    conn: Conn,
    text: str,
    *,
    where: Literal["attrs", "bodies", "logs"] | None = None,
    since_ns: int | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    query = ts_query(text)
    if not query:
        return []
    words = _TOKEN.findall(text)
    places: list[Literal["attrs", "bodies", "logs"]] = (
        [where] if where is not None else ["logs", "attrs", "bodies"]
    )
    hits: list[SearchHit] = []
    for place in places:
        sql = _SEARCH[place].replace(" q", f" websearch_to_tsquery('{TS_CONFIG}', %s)")
        args: list[Any] = [query]
        if since_ns is not None:
            sql += f" AND {_TS[place]} >= %s"
            args.append(since_ns)
        sql += f" ORDER BY {_TS[place]} DESC LIMIT %s"
        args.append(limit)
        for r in _dicts(conn, sql, args):
            if place == "bodies":
                found = _bodies.decode(r["enc"], bytes(r["data"])).decode("utf-8", "replace")
            else:
                found = f"{r['head']} {attr_text(r['a'], r['b'])}"
            cut = snippet(found, words)
            hits.append(SearchHit(r["trace_id"], r["span_id"], r["ts"], place, cut))
    hits.sort(key=lambda h: h.ts_ns, reverse=True)
    return hits[:limit]
