"""The lazy ``orca`` group: every command listed with its help, only the one that runs imported."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from orca.cli import COMMANDS, cli
from orca.store import SQLiteStore, items_from
from orca.testing import capture_records

HEAVY = (
    "orca.server",
    "orca.orchestrator",
    "orca.governance",
    "orca.mcp",
    "pydantic",
    "fastapi",
    "psycopg",
    "rich",
)
# Not needed to print the skeleton of a trace whose bodies are all small (inline): the
# recorder, the check catalog and its renderers, the blob store.
NOT_FOR_TRACE_LAST = (
    "orca.capture",
    "orca.journal",
    "orca.query._registry",
    "orca.query._builtin",
    "orca.query._checks",
    "orca.query._diff",
    "orca.query._stats",
    # no body is read from the blob store: its cipher and segment format stay unloaded
    "orca.blobs._store",
    "orca.blobs._format",
    "cryptography",
)

# Runs the CLI in a fresh interpreter and, at exit, writes the names of every module it
# imported to the file named by the first argument.
PROBE = textwrap.dedent(
    """
    import atexit, json, sys
    out = sys.argv.pop(1)
    atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
    sys.argv[0] = "orca"
    from orca.cli import main
    main()
    """
)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_registry_names_each_command_and_its_own_help(name: str) -> None:
    """Each entry loads a click command whose short help is the line the registry shows."""
    entry = COMMANDS[name]
    command = entry.load()
    assert isinstance(command, click.Command)
    assert command.get_short_help_str(limit=10**6) == entry.short_help


def test_help_lists_every_command() -> None:
    """``orca --help`` names every registered command with the start of its help."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1]
    for name, entry in COMMANDS.items():
        assert f"  {name} " in listed
        assert entry.short_help.split()[0] in listed


def _imported(tmp_path: Path, home: Path, *args: str) -> set[str]:
    """The modules a fresh ``orca ARGS`` (stdout piped) imported, and that it exited 0."""
    out = tmp_path / "modules.json"
    homed = [] if args == ("--help",) else ["--home", str(home)]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args, *homed],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(out.read_text()))


def _heavy(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


@pytest.fixture
def recorded(home: Path) -> Path:
    """A home whose real SQLite store holds one small recorded trace."""
    with capture_records(seed=5) as (rec, records):
        with rec.logger("lazy").span("turn") as turn:
            turn.child("step").end()
    store = SQLiteStore.open(home)
    try:
        store.apply(items_from(records, "test"))
    finally:
        store.close()
    return home


def test_help_imports_no_command_module(tmp_path: Path, home: Path) -> None:
    """``orca --help`` loads no command module, no heavy room and no rich."""
    modules = _imported(tmp_path, home, "--help")
    assert not _heavy(modules)
    assert not [m for m in modules if m.startswith("orca.cli._") and m != "orca.cli._lazy"]


@pytest.mark.parametrize("args", [("trace", "last", "--json"), ("trace", "last")])
def test_trace_last_imports_no_heavy_room(tmp_path: Path, recorded: Path, args: tuple[str]) -> None:
    """``orca trace last`` (JSON, or text piped) reads the store without server, MCP or rich,
    and loads neither the recorder nor the check catalog."""
    modules = _imported(tmp_path, recorded, *args)
    assert not _heavy(modules)
    assert not _heavy(modules, NOT_FOR_TRACE_LAST)
