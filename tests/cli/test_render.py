"""The CLI's colouring of a skeleton: same words as the plain form, styled by meaning."""

from pathlib import Path

from orca.cli._render import STYLES, skeleton_text
from orca.query import render_plain, skeleton
from orca.store import SQLiteStore, TraceRows, items_from
from orca.testing import capture_records


def _rows(home: Path) -> TraceRows:
    """A real recorded turn (a step, a failed tool call, an open span) read from a real store."""
    with capture_records(seed=11) as (rec, records):
        log = rec.logger("render")
        with log.span("turn", attrs={"gen_ai.conversation.id": "c1"}) as turn:
            turn.child("step", attrs={"gen_ai.request.model": "m"}).end()
            turn.child("tool-call", attrs={"gen_ai.tool.name": "x"}).end(error=RuntimeError("no"))
            turn.child("step", attrs={"gen_ai.request.model": "m"})  # never closed
        trace_id = turn.trace_id
    store = SQLiteStore.open(home)
    try:
        store.apply(items_from(records, "test"))
        rows = store.get_trace(trace_id)
    finally:
        store.close()
    assert rows is not None
    return rows


def test_coloured_skeleton_says_what_the_plain_one_says(home: Path) -> None:
    """The terminal form has exactly the plain form's characters, and styles the meanings."""
    sk = skeleton(_rows(home))
    text = skeleton_text(sk)
    assert text.plain == render_plain(sk)
    styles = {str(span.style) for span in text.spans}
    assert STYLES["error"] in styles and STYLES["id"] in styles


def test_every_meaning_the_query_room_uses_has_a_style(home: Path) -> None:
    """A meaning the query room tags a part with is one the CLI knows how to colour."""
    sk = skeleton(_rows(home))
    meanings = {m for line in sk.lines for _, m in line.parts} | {m for _, m in sk.header}
    assert meanings - {""} <= set(STYLES)
