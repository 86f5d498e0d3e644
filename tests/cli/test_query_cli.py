"""The query commands over a real SQLite store built from a real recorder's records."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orca.cli import cli
from orca.store import SQLiteStore, items_from
from orca.testing import capture_records

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
REORDERED = [{"function": {"parameters": {"type": "object"}, "name": "lookup"}, "type": "function"}]


def _request(tools: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"model": "m", "tools": tools, "messages": [{"role": "user", "content": "refund please"}]}
    )


def _record(home: Path) -> dict[str, str]:
    """One turn with a cache bust, an orphan tool call and a failed tool; into ``home``'s store."""
    ids: dict[str, str] = {}
    with capture_records(seed=7) as (rec, records):
        log = rec.logger("support")
        with log.span("turn", attrs={"gen_ai.conversation.id": "c1"}) as turn:
            turn.log.info("customer wants a refund")
            for i, tools in enumerate((TOOLS, REORDERED)):
                with turn.child("step", attrs={"gen_ai.request.model": "m"}) as step:
                    req = step.child(
                        "provider.request",
                        attrs={
                            "gen_ai.request.model": "m",
                            "orca.prefix.fingerprint": f"fp{i}",
                            "orca.prefix.bytes": 60,
                        },
                        body=_request(tools),
                    )
                    req.end(
                        attrs={
                            "gen_ai.usage.input_tokens": 100,
                            "gen_ai.usage.output_tokens": 10,
                            "orca.tool_calls.requested": f"call_{i}",
                            "orca.cost.usd": 0.002,
                        },
                        body='{"choices": []}',
                    )
                    ids[f"req{i}"] = req.span_id
            tool = turn.child(
                "tool-call", attrs={"gen_ai.tool.name": "lookup", "gen_ai.tool.call.id": "call_0"}
            )
            tool.end(error=RuntimeError("exit 2"))
            for n in range(20):
                turn.child("custom", attrs={"n": n}).end()
        ids["trace"] = turn.trace_id
    store = SQLiteStore.open(home)
    try:
        store.apply(items_from(records, "test"))
        store.catch_up_search()  # as the collector does: `orca search` only reads
    finally:
        store.close()
    return ids


@pytest.fixture
def recorded(home: Path) -> dict[str, str]:
    return _record(home)


def _run(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--home", str(home)], catch_exceptions=False)


def test_traces_and_trace_last(home: Path, recorded: dict[str, str]) -> None:
    """The list shows the trace; `trace last` prints its skeleton, plain when piped."""
    out = _run(home, "traces")
    assert out.exit_code == 0 and recorded["trace"][:8] in out.output
    sk = _run(home, "trace", "last")
    assert sk.exit_code == 0
    assert "tool lookup" in sk.output and "→ ERROR exit 2" in sk.output
    assert "… 16 more custom spans" in sk.output
    assert "\x1b[" not in sk.output
    doc = json.loads(_run(home, "trace", recorded["trace"][:6], "--json").output)
    assert doc["trace"]["trace_id"] == recorded["trace"]
    assert json.loads(_run(home, "traces", "--json").output)["traces"][0]["span_count"] == 26


def test_span_and_diff(home: Path, recorded: dict[str, str]) -> None:
    """Drill into a request by prefix; diff the two requests: bytes differ, meaning does not."""
    out = _run(home, "span", recorded["req0"][:8], "--max-bytes", "50")
    assert out.exit_code == 0
    assert "request body (" in out.output and "more bytes left out" in out.output
    d = _run(home, "diff", recorded["req0"], recorded["req1"])
    assert "bytes differ at offset" in d.output
    assert "semantically equal — key order changed in tools[0], tools[0].function" in d.output
    assert "orca.prefix.fingerprint: 'fp0' → 'fp1'" in d.output
    j = json.loads(_run(home, "diff", recorded["req0"], recorded["req1"], "--json").output)
    assert j["request_body"]["semantic"]["equal"] is True


def test_check_exits_1_with_findings(home: Path, recorded: dict[str, str]) -> None:
    """Findings make `check` exit 1 and name the proving spans."""
    out = _run(home, "check", "last")
    assert out.exit_code == 1
    assert "✖  orphan-tool-call" in out.output and "call_1" in out.output
    assert "✖  cache-bust" in out.output and "first differing byte at offset" in out.output
    doc = json.loads(_run(home, "check", "--all", "--json").output)
    failed = {c["name"] for c in doc["checks"] if not c["passed"]}
    assert failed == {"orphan-tool-call", "cache-bust", "error-span"}
    clean = _run(home, "check", "last", "--only", "crashed,misrouted")
    assert clean.exit_code == 0 and "all checks passed" in clean.output


def test_stats_and_search(home: Path, recorded: dict[str, str]) -> None:
    """`orca stats` groups spans by name, model or tool; `orca search` finds logs and bodies."""
    out = _run(home, "stats", "--json")
    groups = {g["key"]: g for g in json.loads(out.output)["groups"]}
    assert groups["provider.request"]["count"] == 2
    assert groups["provider.request"]["input_tokens"] == 200
    assert _run(home, "stats", "--by", "model").exit_code == 0
    assert _run(home, "stats", "tools").exit_code == 0
    hits = json.loads(_run(home, "search", "refund", "--json").output)["hits"]
    assert {h["where"] for h in hits} >= {"logs", "bodies"}
    assert any(h["span_id"] == recorded["req0"] for h in hits)


def _orca(home: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    extra = [] if home is None else ["--home", str(home)]
    return subprocess.run(
        [sys.executable, "-m", "orca", *args, *extra], capture_output=True, text=True, check=False
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_errors_are_one_line(home: Path, recorded: dict[str, str], tmp_path: Path) -> None:
    """Unknown id, ambiguous prefix, missing home: one clear line, non-zero exit, no traceback."""
    _one_line_error(_orca(home, "trace", "ffffffffffff"), "no trace with id")
    _one_line_error(_orca(home, "span", "zz"), "not a span id")
    spans = [recorded["req0"], recorded["req1"]]
    store = SQLiteStore.open(home)
    try:
        all_ids = [s.span_id for s in store.find_spans()]
    finally:
        store.close()
    prefix, n = Counter(i[0] for i in all_ids).most_common(1)[0]
    assert n > 1 and spans
    _one_line_error(_orca(home, "span", prefix), "ambiguous", "type more digits")
    _one_line_error(_orca(tmp_path / "nope", "traces"), "no ORCA home")
    _one_line_error(_orca(home, "traces", "--since", "yesterday"), "is not a duration")
    _one_line_error(_orca(home, "check"), "give a trace ID")
