"""Breakpoint-aware cache-bust evidence: ``orca check`` and ``orca diff`` name the breakpoint.

Two Anthropic requests of one conversation with three ``cache_control``
breakpoints (last tool, system prompt, latest user message); the second one
grows the conversation and plants one change. The check must name the first
breakpoint whose prefix did not survive, and the byte where it broke.
"""

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from orca.capture import Recorder
from orca.cli import cli
from orca.collector import Collector
from orca.integrations import prefix_of
from orca.integrations.anthropic import instrument
from orca.store import SQLiteStore
from orca.testing import FakeProvider, Reply

ROOT = Path(__file__).resolve().parents[2]
MODEL = "claude-sonnet-4-20250514"
EPHEMERAL = {"type": "ephemeral"}


def _first() -> dict[str, Any]:
    tools: list[Any] = [
        {"name": "find", "description": "Find a file.", "input_schema": {"type": "object"}},
        {"name": "read", "description": "Read a file.", "input_schema": {"type": "object"}},
    ]
    tools[-1]["cache_control"] = EPHEMERAL
    return {
        "tools": tools,
        "system": [{"type": "text", "text": "You are terse, v1.", "cache_control": EPHEMERAL}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Summarise a.txt"}]},
            {"role": "assistant", "content": "It is a report."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Risks?", "cache_control": EPHEMERAL}],
            },
        ],
    }


def _second(change: str) -> tuple[dict[str, Any], bytes]:
    """The next request (conversation grown by one exchange) with ``change`` planted.

    Returns the request and the bytes of the planted change, to locate it in the body.
    """
    doc = copy.deepcopy(_first())
    doc["messages"][2]["content"][0].pop("cache_control")
    doc["messages"] += [
        {"role": "assistant", "content": "None found."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Sure?", "cache_control": EPHEMERAL}],
        },
    ]
    marker = b""
    if change == "tools":
        doc["tools"][0]["description"] = "Find a file by name."
        marker = b"Find a file by name."
    elif change == "system":
        doc["system"][0]["text"] = "You are terse, v2."
        marker = b"terse, v2."
    elif change == "message":
        doc["messages"][0]["content"][0]["text"] = "Summarise b.txt"
        marker = b"Summarise b.txt"
    return doc, marker


def _record(home: Path, first: dict[str, Any], second: dict[str, Any]) -> tuple[list[bytes], str]:
    rec = Recorder.open(home, heartbeat_s=None)
    with FakeProvider(default=Reply("noted")) as fp:
        turn = rec.logger("agent").span("turn")
        client = instrument(
            anthropic.Anthropic(
                api_key="sk-ant-test-00000000000000", base_url=f"http://127.0.0.1:{fp.port}"
            ),
            parent=turn,
            conversation_id="conv-bp",
        )
        for doc in (first, second):
            client.messages.create(model=MODEL, max_tokens=64, **doc)
        client.close()
        turn.end()
        bodies = [r.body for r in fp.requests]
    rec.close()
    with Collector(home) as collector:
        collector.drain()
    return bodies, turn.trace_id


def _check(home: Path, trace_id: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["check", trace_id, "--home", str(home), "--json"])
    return next(c for c in json.loads(result.output)["checks"] if c["name"] == "cache-bust")


@pytest.mark.parametrize(
    ("change", "named", "kept"),
    [
        ("tools", "cache breakpoint 1/3 (tools[1])", None),
        ("system", "cache breakpoint 2/3 (system[0])", "breakpoint 1 (tools[1]) still hit"),
        (
            "message",
            "cache breakpoint 3/3 (messages[2])",
            "breakpoint 1 (tools[1]), 2 (system[0]) still hit",
        ),
    ],
)
def test_check_names_the_breakpoint_whose_prefix_changed(
    home: Path, change: str, named: str, kept: str | None
) -> None:
    """A change in the tools, the system prompt or an earlier message: the right breakpoint."""
    second, marker = _second(change)
    bodies, trace_id = _record(home, _first(), second)
    bust = _check(home, trace_id)
    assert not bust["passed"]
    (finding,) = bust["findings"]
    msg = finding["message"]
    assert msg.startswith(named), msg
    assert "conv-bp" in msg
    # the first differing byte is where the planted change sits in the second body
    start = bodies[1].index(marker)
    offset = int(msg.split("first differing byte at offset ")[1].split(";")[0])
    assert start <= offset < start + len(marker)
    if kept is None:
        assert "still hit" not in msg
    else:
        assert msg.endswith(kept)


def test_a_grown_conversation_with_moved_breakpoint_is_not_a_bust(home: Path) -> None:
    """The messages breakpoint moving forward is how caching is meant to work: no finding."""
    second, _ = _second("none")
    _, trace_id = _record(home, _first(), second)
    assert _check(home, trace_id)["passed"]


def test_diff_shows_each_breakpoint(home: Path) -> None:
    """``orca diff`` lists every breakpoint of A: intact, or changed with the bytes around it."""
    second, _ = _second("system")
    _record(home, _first(), second)
    store = SQLiteStore.open(home)
    try:
        a, b = (s.span_id for s in store.find_spans(name="provider.request"))
    finally:
        store.close()
    run = CliRunner().invoke(cli, ["diff", a, b, "--home", str(home)])
    assert run.exit_code == 0, run.output
    assert "cache breakpoints of A: 3" in run.output
    assert "1/3 tools[1]: prefix intact in B (cache hit)" in run.output
    assert "2/3 system[0]: prefix changed, first differing byte at offset" in run.output
    assert "⟦1.⟧" not in run.output and "v⟦2." in run.output
    doc = json.loads(CliRunner().invoke(cli, ["diff", a, b, "--home", str(home), "--json"]).output)
    assert [(p["at"], p["kept"]) for p in doc["cache_breakpoints"]] == [
        ("tools[1]", True),
        ("system[0]", False),
        ("messages[2]", False),
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_each_breakpoint_prefix_is_a_leading_part_of_the_whole(
    texts: list[str], marks: list[bool]
) -> None:
    """Invariant: every breakpoint's prefix is the first ``bytes`` of the whole prefix, in order."""
    blocks: list[dict[str, Any]] = []
    for text, mark in zip(texts, marks, strict=False):
        block: dict[str, Any] = {"type": "text", "text": text}
        if mark:
            block["cache_control"] = EPHEMERAL
        blocks.append(block)
    body = json.dumps(
        {"system": blocks[:1], "messages": [{"role": "user", "content": blocks[1:] or "x"}]},
        ensure_ascii=False,
    ).encode()
    p = prefix_of(body)
    assert p is not None
    assert len(p.breakpoints) == sum(marks[: len(texts)])
    whole = b"".join(body[s:e] for s, e in p.ranges)
    sizes = [bp.size for bp in p.breakpoints]
    assert sizes == sorted(sizes)
    if p.breakpoints:
        assert sizes[-1] == p.size
        for bp in p.breakpoints:
            assert hashlib.sha256(whole[: bp.size]).hexdigest() == bp.fingerprint
            assert whole[: bp.size].endswith(b"}")


@pytest.mark.slow
def test_example_plants_a_bust_that_orca_check_finds(home: Path) -> None:
    """examples/anthropic_cache_bust.py: the system-prompt breakpoint is named, tools still hit."""
    env = {**os.environ, "ORCA_HOME": str(home)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "anthropic_cache_bust.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "turn 2: cache read" in run.stdout
    orca = str(Path(sys.executable).parent / "orca")
    subprocess.run([orca, "collect", "--once"], env=env, check=True, capture_output=True)
    check = subprocess.run([orca, "check", "last"], env=env, capture_output=True, text=True)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "cache breakpoint 2/3 (system[0]) prefix changed" in check.stdout
    assert "breakpoint 1 (tools[1]) still hit" in check.stdout
