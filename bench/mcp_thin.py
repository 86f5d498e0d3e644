"""MCP bench (named so it does not shadow the `mcp` package): bytes read per planted bug.

Records ``examples/support_desk.py`` into a temporary home (the real ``orca
run``), then for every failing check of the bug catalog walks the thin loop a
debugging agent follows through the MCP tools — ``check(trace, only)`` →
``skeleton(trace)`` → ``span(proving span)`` — with the SDK's own client
(in-process transport), counting the bytes of text each result carries and,
separately, text plus ``structuredContent``. The baseline, from the same
store in the same run, is what a get-whole-trace tool returns: every span of
the trace as one JSON document (attributes, links, logs, whole bodies).

Targets: ≤ 2 KB read per bug, and ≥ 10× less than the whole-trace dump.
Ends with one line of JSON.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client

from orca.mcp import build_server
from orca.query import span_detail_json
from orca.store import open_store

ROOT = Path(__file__).resolve().parent.parent
TARGET_BYTES = 2048
TARGET_RATIO = 10.0


def record(home: Path) -> None:
    env = {**os.environ, "ORCA_HOME": str(home)}
    example = str(ROOT / "examples" / "support_desk.py")
    subprocess.run(
        [sys.executable, "-m", "orca", "run", "--", sys.executable, example],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def whole_trace_bytes(home: Path, trace_id: str) -> int:
    """Every span of one trace in full, as a whole-trace tool would hand it over."""
    store = open_store(home)
    try:
        rows = store.get_trace(trace_id)
        assert rows is not None
        spans = []
        for s in rows.spans:
            bodies = [
                {"which": w, "text": (store.get_body(sha) or b"").decode("utf-8", "replace")}
                for w, sha in (("request", s.request_body), ("response", s.response_body))
                if sha
            ]
            doc = span_detail_json(s, store.span_logs(s.span_id), store.span_links(s.span_id), [])
            doc["bodies"] = bodies
            spans.append(doc)
        return len(json.dumps({"trace_id": trace_id, "spans": spans}).encode())
    finally:
        store.close()


def size(result: Any) -> tuple[int, int]:
    text = sum(len(c.text.encode()) for c in result.content if c.type == "text")
    structured = len(json.dumps(result.structured_content or {}).encode())
    return text, text + structured


async def walk(home: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with Client(build_server(home), cache=None) as c:
        overall = await c.call_tool("check", {})
        failing = [v["name"] for v in overall.structured_content["verdicts"] if not v["passed"]]
        for name in failing:
            finding = next(f for f in overall.structured_content["findings"] if f["check"] == name)
            trace, proof = finding["trace_id"], finding["span_ids"][0]
            steps = [
                await c.call_tool("check", {"trace": trace, "only": name}),
                await c.call_tool("skeleton", {"trace": trace, "max_lines": 40}),
                await c.call_tool("span", {"span": proof}),
            ]
            text = sum(size(r)[0] for r in steps)
            total = sum(size(r)[1] for r in steps)
            rows.append({"check": name, "trace": trace, "text_bytes": text, "all_bytes": total})
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        record(home)
        rows = asyncio.run(walk(home))
        for r in rows:
            r["whole_trace_bytes"] = whole_trace_bytes(home, r["trace"])
            r["ratio"] = round(r["whole_trace_bytes"] / r["text_bytes"], 1)
    print(f"{'check':<20} {'text read':>10} {'+structured':>12} {'whole trace':>12} {'ratio':>7}")
    for r in rows:
        print(
            f"{r['check']:<20} {r['text_bytes']:>10,} {r['all_bytes']:>12,}"
            f" {r['whole_trace_bytes']:>12,} {r['ratio']:>6}×"
        )
    worst = max(r["text_bytes"] for r in rows)
    least = min(r["ratio"] for r in rows)
    ok = worst <= TARGET_BYTES and least >= TARGET_RATIO
    print(f"worst {worst} B (target ≤ {TARGET_BYTES}); least ratio {least}× (≥ {TARGET_RATIO}×)")
    print(
        json.dumps(
            {
                "bench": "mcp_thin",
                "bugs": rows,
                "worst_text_bytes": worst,
                "least_ratio": least,
                "meets_target": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
