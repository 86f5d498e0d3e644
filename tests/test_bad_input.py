"""Every CLI command, driven with bad input: one short line on stderr, exit 2, no traceback.

The commands are found by walking the click tree, so a new command is covered
the day it lands. Scenarios: a missing home, a home that is a file, an
unknown id, an out-of-range number, ``nan``, and each of those with ``--json``.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from orca.capture import Recorder
from orca.cli import cli
from orca.cli._options import Count, Duration
from orca.collector import Collector
from orca.ledger import Ledger
from orca.testing import temp_home

UNKNOWN_ID = "deadbeefdeadbeef"
PLACEHOLDERS: dict[str, list[str]] = {
    "trace_ref": [UNKNOWN_ID],
    "span_ref": [UNKNOWN_ID],
    "span_a": [UNKNOWN_ID],
    "span_b": [UNKNOWN_ID],
    "entry_id": ["999"],
    "old": ["998"],
    "new": ["999"],
    "kind": ["x.y"],
    "text": ["hello"],
    "run_ref": ["no-such-run"],
    "cmd": ["--", sys.executable, "-c", "pass"],
    "file": ["no-such-policy.yaml"],
    "cases": ["no-such-cases.yaml"],
    "src": ["/nonexistent/orca-src"],  # `migrate SRC DST`: stores by URL or home, no --home
    "dst": ["/nonexistent/orca-dst"],
    "query": ["SELECT 1"],  # `orca sql QUERY`
}
RECORDING = {"run", "ledger append"}  # commands that may create a home


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)  # list/get, not .commands: the top group loads commands lazily
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_commands())


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None, path
        cmd = found
    return cmd


def _numeric_options(path: tuple[str, ...]) -> list[str]:
    cmd = _command(path)
    return [
        p.opts[0]
        for p in cmd.params
        if isinstance(p, click.Option) and isinstance(p.type, Count | Duration | click.IntRange)
    ]


def _has_json(path: tuple[str, ...]) -> bool:
    return any("--json" in getattr(p, "opts", []) for p in _command(path).params)


def _argv(path: tuple[str, ...], home: Path, *options: str) -> list[str]:
    cmd = _command(path)
    extra = ["--once"] if path == ("collect",) else []
    positional: list[str] = []
    for p in cmd.params:
        if isinstance(p, click.Argument) and p.required:
            positional += PLACEHOLDERS[str(p.name)]
    homed = any(p.name == "home" for p in cmd.params)  # `policy check FILE` needs no home
    return [*path, *extra, *options, *(["--home", str(home)] if homed else []), *positional]


def _invoke(argv: list[str]) -> Result:
    return CliRunner().invoke(cli, argv)


def _assert_clean(result: Result, argv: list[str], codes: tuple[int, ...] = (2,)) -> None:
    where = " ".join(argv)
    assert result.exit_code in codes, f"{where}: exit {result.exit_code}\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{where}: raised {result.exception!r}"
    )
    assert len(result.stderr.strip().splitlines()) <= 3, f"{where}: stderr\n{result.stderr}"
    assert "Traceback" not in result.output + result.stderr, where


@pytest.fixture(scope="module")
def recorded() -> Iterator[Path]:
    """A home with one trace, a few ledger entries, and a built store."""
    with temp_home() as home:
        with Recorder.open(home, heartbeat_s=None) as rec:
            with rec.logger("t").span("turn") as turn:
                turn.child("step").end()
        with Ledger.open(home) as led:
            for i in range(3):
                led.append({"kind": "k", "args": {"i": i}})
        with Collector(home) as c:
            c.drain()
        yield home


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_missing_home(path: tuple[str, ...], as_json: bool, tmp_path: Path) -> None:
    """A home that does not exist: exit 2 (only recording commands may create one)."""
    if as_json and not _has_json(path):
        pytest.skip("no --json")
    argv = _argv(path, tmp_path / "missing", *(["--json"] if as_json else []))
    result = _invoke(argv)
    _assert_clean(result, argv, (0, 1, 2) if " ".join(path) in RECORDING else (2,))
    if " ".join(path) not in RECORDING:
        assert not (tmp_path / "missing").exists(), "a non-recording command created a home"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_home_is_a_file(path: tuple[str, ...], as_json: bool, tmp_path: Path) -> None:
    """A home path naming a file: exit 2, one line."""
    if as_json and not _has_json(path):
        pytest.skip("no --json")
    f = tmp_path / "afile"
    f.write_text("not a home")
    argv = _argv(path, f, *(["--json"] if as_json else []))
    _assert_clean(_invoke(argv), argv)


ID_COMMANDS = [
    p
    for p in COMMANDS
    if any(
        isinstance(x, click.Argument)
        and x.name in ("trace_ref", "span_ref", "span_a", "entry_id", "run_ref")
        for x in _command(p).params
    )
]


@pytest.mark.parametrize("path", ID_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_unknown_id(path: tuple[str, ...], as_json: bool, recorded: Path) -> None:
    """An id that names nothing: exit 2."""
    if as_json and not _has_json(path):
        pytest.skip("no --json")
    argv = _argv(path, recorded, *(["--json"] if as_json else []))
    _assert_clean(_invoke(argv), argv)


NUMERIC = [(p, opt) for p in COMMANDS for opt in _numeric_options(p)]


@pytest.mark.parametrize(
    ("path", "option"), NUMERIC, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x
)
@pytest.mark.parametrize("value", ["1" + "0" * 30, "1e23", "-1", "nan", "inf"])
def test_bad_numbers(path: tuple[str, ...], option: str, value: str, recorded: Path) -> None:
    """Out of range, negative and non-finite numbers are refused before any work."""
    argv = _argv(path, recorded, f"{option}={value}", *(["--json"] if _has_json(path) else []))
    result = _invoke(argv)
    _assert_clean(result, argv)
    assert "Invalid value" in result.stderr


def test_every_command_is_covered() -> None:
    """The walk finds the commands (a guard against testing nothing)."""
    names = {" ".join(p) for p in COMMANDS}
    assert {"traces", "trace", "check", "collect", "run", "ledger append", "journal cat"} <= names
    assert len(NUMERIC) >= 10 and len(ID_COMMANDS) >= 6


SERVERS = {"mcp", "up"}  # serve a protocol (stdio, HTTP); they print no data of their own


def test_item17_every_command_takes_json() -> None:
    """The README says every command that prints data takes --json: keep it true."""
    missing = [" ".join(p) for p in COMMANDS if not _has_json(p) and " ".join(p) not in SERVERS]
    assert missing == []
