"""``orca mcp``: ORCA's debugging tools for an LLM agent over MCP (stdio)."""

from pathlib import Path

import click

from orca.cli._common import existing_home, home_option


@click.command("mcp")
@home_option
@click.option(
    "--max-text",
    type=click.IntRange(256, 1 << 20),
    default=4096,
    show_default=True,
    help="Bytes of text one tool result may hold.",
)
def mcp_cmd(home: Path | None, max_text: int) -> None:
    """Serve the MCP tools (list_traces, skeleton, span, diff, check, …) on stdin/stdout."""
    root = existing_home(home)  # a missing or mistyped home is one line, not a silent server
    from orca.mcp import run_stdio  # the SDK loads only for this command

    run_stdio(root, max_text=max_text)
