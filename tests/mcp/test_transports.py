"""The same tools over the real transports: `orca mcp` on stdio, streamable HTTP, a 10 MB body."""

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from mcp import Client, StdioServerParameters

from orca.capture import Recorder
from orca.mcp import build_server

from .conftest import orca


async def _walk(client: Client) -> dict[str, Any]:
    tools = await client.list_tools()
    chk = await client.call_tool("check", {})
    sk = await client.call_tool("skeleton", {"trace": "last"})
    bad = await client.call_tool("span", {"span": "ffff"})
    again = await client.call_tool("list_traces", {"limit": 2})
    return {"tools": tools, "check": chk, "skeleton": sk, "bad": bad, "again": again}


def _assert_walk(out: dict[str, Any]) -> None:
    assert len(out["tools"].tools) >= 10
    assert out["check"].structured_content["passed"] is False
    assert out["skeleton"].structured_content["lines"]
    assert out["bad"].is_error
    assert out["again"].structured_content["shown"] == 2


@pytest.mark.slow
def test_stdio_orca_mcp(desk_home: Path) -> None:
    """`orca mcp --home H` speaks MCP on stdin/stdout to the SDK's stdio client."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "orca", "mcp", "--home", str(desk_home)]
    )

    async def main() -> dict[str, Any]:
        async with Client(params, cache=None) as client:
            return await _walk(client)

    _assert_walk(asyncio.run(main()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_url(desk_home: Path) -> Iterator[str]:
    """The MCP server's streamable-HTTP app under uvicorn on a loopback port."""
    port = _free_port()
    app = build_server(desk_home).streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)


def test_streamable_http(http_url: str) -> None:
    """The SDK's streamable-HTTP client gets the same answers as stdio."""

    async def main() -> dict[str, Any]:
        async with Client(http_url, cache=None) as client:
            return await _walk(client)

    _assert_walk(asyncio.run(main()))


@pytest.mark.slow
def test_ten_megabyte_body_is_served_in_slices(tmp_path: Path) -> None:
    """A 10 MB request body: the span tool returns a bounded slice and a cursor, never all."""
    home = tmp_path / "home"
    rec = Recorder.open(home, max_record_bytes=12 * 1024 * 1024)
    big = ("x" * 1023 + "\n") * (10 * 1024)
    with rec.logger("agent").span("provider.request", body=big) as sp:
        sid = sp.span_id
    rec.close()
    assert orca("collect", "--once", home=home).returncode == 0

    async def main() -> Any:
        async with Client(build_server(home), cache=None) as client:
            head = await client.call_tool("span", {"span": sid})
            sl = await client.call_tool("span", {"span": sid, "body": "request", "offset": 5000})
            return head, sl

    head, sl = asyncio.run(main())
    assert head.structured_content["bodies"][0]["bytes"] == len(big)
    assert len(head.content[0].text) < 4096
    s = sl.structured_content["slice"]
    assert s["offset"] == 5000 and s["bytes"] == 2048 and s["next_offset"] == 7048
    assert s["total"] == len(big) and len(sl.content[0].text.encode()) < 4096 + 2048
