"""The MCP check tool runs the same catalog as `orca check`: the home's [checks] thresholds."""

from pathlib import Path

from orca.capture import Recorder, tool_call
from orca.collector import Collector
from orca.mcp._tools import Home, check_of


def test_check_tool_uses_the_home_thresholds(home: Path) -> None:
    """Two identical tool calls pass by default and fail with tool_loop_repeats = 2."""
    rec = Recorder.open(home, heartbeat_s=None)
    with rec.logger("agent").span("turn") as turn:
        for i in range(2):
            with tool_call(turn, "lookup", f"call_{i}", input='{"q": 1}') as call:
                call.set_result("not found")
    rec.close()
    with Collector(home) as c:
        c.drain()
    assert check_of(Home.at(home), only="tool-loop").data["passed"] is True
    (home / "config.toml").write_text("[checks]\ntool_loop_repeats = 2\n")
    result = check_of(Home.at(home), only="tool-loop")
    assert result.data["passed"] is False
    assert "tool lookup called 2× with the same input" in result.text
