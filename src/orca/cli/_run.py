"""``orca run -- CMD ARGS…``: record a program, drain the collector, show what it did.

The program gets ``ORCA_HOME`` so a bare ``orca.Recorder.open()`` records
into this home. After it exits (cleanly or not) the journal is drained into
the store by a collector in this process — which also attributes a crash
when the program died without its clean-exit record — or, when a collector
already runs for the home, by waiting (``--wait``, bounded) for that one to
ingest what the program wrote (``orca.collector.drain``). Then the skeleton of every trace
the program started is printed. The program's exit code is returned, so
``orca run`` drops into scripts and CI unchanged.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from orca._home import HOME_ENV
from orca.cli._common import fail, home_option, json_option, print_json, writable_home
from orca.cli._options import WAIT, count
from orca.cli._render import emit_skeleton

WAIT_S = 120.0


def _announce(pid: int) -> None:
    who = f"pid {pid}" if pid else "another process"
    click.echo(
        f"orca: a collector ({who}) is running for this home; waiting for it to ingest"
        " what the program wrote",
        err=True,
    )


def _exit_code(returncode: int) -> int:
    """A signal death as the shell reports it (128 + signal number)."""
    return 128 - returncode if returncode < 0 else returncode


def _forward(proc: "subprocess.Popen[bytes]") -> dict[int, Any]:
    """Pass SIGTERM/SIGHUP on to the program (so it is never orphaned); previous handlers."""

    def handler(signum: int, frame: FrameType | None) -> None:
        try:
            proc.send_signal(signum)
        except OSError:
            pass

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}


def _nothing_recorded(code: int, written: dict[str, int], problem: str | None) -> str:
    """Why no trace is shown, in the words that fit what happened."""
    if problem:
        return "no traces shown: the collector did not finish ingesting (see above)"
    if not written and code != 0:
        return f"the program exited with code {code} before recording anything"
    if not written:
        return "the program recorded nothing (does it call orca.Recorder.open()?)"
    return "the program wrote to the journal but opened no spans"


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@home_option
@click.option("--depth", type=count(0), default=None, help="Skeleton depth limit.")
@click.option(
    "--wait",
    "wait_s",
    type=WAIT,
    default=f"{WAIT_S:g}s",
    show_default=True,
    metavar="DURATION",
    help="When a collector already runs: how long to wait for it to ingest the program's records.",
)
@json_option
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED, required=True)
def run(
    home: Path | None, depth: int | None, wait_s: timedelta, as_json: bool, cmd: tuple[str, ...]
) -> None:
    """Run CMD with ORCA_HOME set, drain the collector, print each trace's skeleton.

    SIGTERM (and SIGHUP) are passed on to CMD; its records are still drained
    and shown, as after Ctrl-C. The exit code is CMD's.
    """
    root = writable_home(home, create=True)
    env = {**os.environ, HOME_ENV: str(root)}
    started = time.time_ns()
    try:
        proc = subprocess.Popen(list(cmd), env=env)
    except OSError as exc:
        fail(f"cannot run {cmd[0]!r}: {exc.strerror or exc}", 127)
    previous = _forward(proc)
    try:
        try:
            returncode = proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            returncode = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    from orca.collector import drain, journal_sizes
    from orca.query import skeleton, skeleton_json
    from orca.store import open_store

    written = journal_sizes(root, started)  # what the program (and its children) wrote
    problem = drain(root, written, timeout_s=wait_s.total_seconds(), on_wait=_announce)
    if problem:
        click.echo(f"orca: collector: {problem}", err=True)
    store = open_store(root, create=True)
    shown: list[dict[str, Any]] = []
    try:
        summaries = store.list_traces(limit=None, since_ns=started)
        for summary in reversed(summaries):  # oldest first: the order the program ran them
            rows = store.get_trace(summary.trace_id)
            if rows is not None:
                sk = skeleton(rows, depth=depth)
                if as_json:
                    shown.append(skeleton_json(sk))
                else:
                    emit_skeleton(sk)
    finally:
        store.close()
    code = _exit_code(returncode)
    note = None if summaries else _nothing_recorded(code, written, problem)
    if as_json:
        print_json({"exit_code": code, "traces": shown, "note": note, "collector": problem})
    else:
        if note:
            click.echo(f"orca: {note}")
        click.echo(f"orca: {cmd[0]} exited with code {code}; {len(summaries)} trace(s) recorded")
    sys.exit(code)
