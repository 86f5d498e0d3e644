"""The MCP tools through the SDK's own client: schemas, bounds, paging, errors."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp_types import CallToolResult

from orca.mcp import DEFAULT_MAX_TEXT, build_server

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_traces", {}),
    ("list_traces", {"status": "crashed", "limit": 5}),
    ("list_traces", {"query": "refund"}),
    ("skeleton", {"trace": "last"}),
    ("skeleton", {"trace": "last", "fold": False, "max_lines": 2}),
    ("check", {}),
    ("check", {"only": "crashed,cache-bust"}),
    ("stats", {"by": "model"}),
    ("search", {"query": "refund", "limit": 5}),
    ("ledger_events", {}),
    ("memory", {}),
    ("runs", {}),
    ("run", {"run": "last"}),
]


def session(home: Path | str, fn: Callable[[Client], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``fn`` with a client connected in-process to a server over ``home``."""

    async def main() -> Any:
        async with Client(build_server(home, **kw), cache=None) as client:
            return await fn(client)

    return asyncio.run(main())


def validate(client_tools: dict[str, Any], name: str, result: CallToolResult) -> None:
    """``structuredContent`` conforms to the tool's declared ``outputSchema``."""
    assert not result.is_error, result.content
    schema = client_tools[name].output_schema
    assert schema is not None, f"{name} declares no output schema"
    jsonschema.validate(result.structured_content, schema)


def test_lists_tools_prompts_and_resources(desk_home: Path) -> None:
    """Every tool, the debug_trace prompt and both resource templates are advertised."""

    async def fn(c: Client) -> tuple[Any, Any, Any]:
        return await c.list_tools(), await c.list_prompts(), await c.list_resource_templates()

    tools, prompts, templates = session(desk_home, fn)
    names = {t.name for t in tools.tools}
    assert names >= {"list_traces", "skeleton", "span", "diff", "check", "stats", "search"}
    assert names >= {"ledger_events", "memory", "verify", "runs", "run"}
    assert all(t.output_schema for t in tools.tools)
    assert [p.name for p in prompts.prompts] == ["debug_trace"]
    uris = {t.uri_template for t in templates.resource_templates}
    assert uris == {"orca://trace/{trace_id}", "orca://span/{span_id}/body/{which}"}


@pytest.mark.parametrize("bound", [DEFAULT_MAX_TEXT, 512])
def test_every_tool_validates_and_stays_bounded(desk_home: Path, bound: int) -> None:
    """Each call's structured result matches its schema; text and rows stay within the bound."""

    async def fn(c: Client) -> list[tuple[str, CallToolResult]]:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        out = []
        for name, args in CALLS:
            r = await c.call_tool(name, args)
            validate(tools, name, r)
            out.append((name, r))
        return out

    for name, r in session(desk_home, fn, max_text=bound):
        text = r.content[0].text
        assert len(text.encode()) <= bound, (name, len(text.encode()))
        rows = next((v for v in r.structured_content.values() if isinstance(v, list)), [])
        assert len(json.dumps(rows).encode()) <= bound + 2048, name
        if "cut at" in text:
            assert "to see the rest" in text or "more" in text.rsplit("cut at", 1)[1], name


def test_check_then_span_then_diff_names_the_cache_bust(desk_home: Path) -> None:
    """The thin loop: check cites two requests, span pages a body, diff compares them."""

    async def fn(c: Client) -> tuple[Any, Any, Any, Any]:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        chk = await c.call_tool("check", {"only": "cache-bust"})
        validate(tools, "check", chk)
        a, b = chk.structured_content["findings"][-1]["span_ids"][:2]
        sp = await c.call_tool("span", {"span": b[:8]})
        validate(tools, "span", sp)
        df = await c.call_tool("diff", {"a": a, "b": b})
        validate(tools, "diff", df)
        by = await c.call_tool("diff", {"a": a, "b": b, "mode": "bytes"})
        validate(tools, "diff", by)
        return chk, sp, df, by

    chk, sp, df, by = session(desk_home, fn)
    assert not chk.structured_content["passed"]
    assert sp.structured_content["bodies"], "the request span has bodies"
    links = [c for c in sp.content if c.type == "resource_link"]
    assert links and links[0].uri.startswith("orca://span/")
    assert df.structured_content["diff"] != {}
    assert "semantic" not in by.structured_content["diff"]


def test_span_slices_page_to_the_whole_body(desk_home: Path) -> None:
    """Slices joined by their cursors equal the whole body the resource link returns."""

    async def fn(c: Client) -> tuple[str, bytes]:
        chk = await c.call_tool("check", {"only": "cache-bust"})
        sid = chk.structured_content["findings"][-1]["span_ids"][0]
        parts, offset = [], 0
        while offset is not None:
            r = await c.call_tool(
                "span", {"span": sid, "body": "request", "offset": offset, "max_bytes": 300}
            )
            sl = r.structured_content["slice"]
            assert sl["bytes"] <= 300 and sl["offset"] == offset
            parts.append(sl["text"])
            offset = sl["next_offset"]
        whole = await c.read_resource(f"orca://span/{sid}/body/request")
        blob = whole.contents[0]
        raw = blob.blob if hasattr(blob, "blob") else blob.text
        import base64

        return "".join(parts), base64.b64decode(raw) if hasattr(blob, "blob") else raw.encode()

    joined, whole = session(desk_home, fn)
    assert joined.encode() == whole and len(whole) > 300


def test_bad_calls_are_tool_errors_and_the_server_keeps_answering(
    desk_home: Path, tmp_path: Path
) -> None:
    """Unknown id → closest ids; ambiguous prefix → candidates; bad args → a hint; then OK."""

    async def fn(c: Client) -> list[CallToolResult]:
        last = await c.call_tool("skeleton", {"trace": "last"})
        tid = last.structured_content["trace"]["trace_id"]
        bad = tid[:10] + ("0" if tid[10] != "0" else "1") + tid[11:]
        some_span = next(ln["span"] for ln in last.structured_content["lines"] if ln["span"])
        out = [
            await c.call_tool("skeleton", {"trace": bad}),
            await c.call_tool("span", {"span": some_span[:1]}),
            await c.call_tool("span", {"span": "zz-not-hex"}),
            await c.call_tool("check", {"only": ""}),
            await c.call_tool("stats", {"by": "colour"}),
            await c.call_tool("search", {"query": "  "}),
        ]
        out.append(await c.call_tool("skeleton", {"trace": "last"}))
        return out

    *errors, ok = session(desk_home, fn)
    assert all(e.is_error for e in errors)
    texts = [e.content[0].text for e in errors]
    assert "closest" in texts[0]
    assert "ambiguous" in texts[1]
    assert "hex" in texts[2]
    assert "no such check" in texts[3]
    assert not ok.is_error


def test_missing_home_is_a_tool_error(tmp_path: Path) -> None:
    """A server over a home that does not exist answers each call with how to fix it."""

    async def fn(c: Client) -> list[CallToolResult]:
        return [await c.call_tool("list_traces", {}), await c.call_tool("verify", {})]

    for r in session(tmp_path / "nowhere", fn):
        assert (r.is_error and "ORCA home" in r.content[0].text) or "ledger" in r.content[0].text


def test_debug_prompt_and_trace_resource(desk_home: Path) -> None:
    """The prompt names the trace and the loop; the trace resource is its skeleton."""

    async def fn(c: Client) -> tuple[Any, Any]:
        p = await c.get_prompt("debug_trace", {"trace": "last"})
        r = await c.read_resource("orca://trace/last")
        return p, r

    p, r = session(desk_home, fn)
    assert "root cause" in p.messages[0].content.text.lower()
    assert r.contents[0].text.startswith("trace ")


def test_run_tool_shows_the_redelivered_task(desk_home: Path) -> None:
    """The orchestrated run: the billing task's two attempts and the expired survey."""

    async def fn(c: Client) -> CallToolResult:
        return await c.call_tool("run", {"run": "last"})

    r = session(desk_home, fn)
    assert not r.is_error
    tasks = r.structured_content["tasks"]
    assert any(len(t["attempts"]) >= 2 for t in tasks), tasks
    assert any(t["status"] == "expired" for t in tasks)
