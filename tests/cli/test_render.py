"""The CLI's colouring of a skeleton: same words as the plain form, styled by meaning."""

import os
import pty
import re
import subprocess
import sys
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


def test_a_terminal_gets_colour_a_pipe_gets_plain_text(home: Path) -> None:
    """``orca trace last`` on a real pseudo-terminal is coloured; piped, the same words plain."""
    rows = _rows(home)
    argv = [sys.executable, "-m", "orca", "trace", "last", "--home", str(home)]
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "\x1b[" not in piped and piped == render_plain(skeleton(rows))
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            argv, stdout=follower, stderr=subprocess.PIPE, timeout=120, check=False
        )
        os.close(follower)
        follower = -1
        assert proc.returncode == 0, proc.stderr
        shown = b""
        while chunk := _read(leader):
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert b"\x1b[" in shown  # colour codes
    assert re.sub(rb"\x1b\[[0-9;]*m", b"", shown).replace(b"\r\n", b"\n").decode() == piped


def _read(fd: int) -> bytes:
    """What is left on the pseudo-terminal (empty once its writer is gone)."""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other side is closed
        return b""
