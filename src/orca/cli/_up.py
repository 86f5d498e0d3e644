"""``orca up``: serve a home — HTTP API, orchestrator, and the collector as a child process.

The command wires what the server room may not import itself: the
collector's lock holder and status figures (for ``/readyz`` and
``/metrics``) are handed to it as plain callables.
"""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from orca._home import resolve_home
from orca.cli._common import fail, home_option
from orca.cli._options import count_option

if TYPE_CHECKING:
    from orca.orchestrator import Orchestrator
    from orca.server import HomeGauges, ModelUsage

MODELS_EVERY_S = 30.0  # grouping a big store by model takes a while: not on every scrape


def _models(home: Path) -> "tuple[ModelUsage, ...]":
    """Tokens and cost per model over every span the store holds (grouped in SQL)."""
    from orca.server import ModelUsage
    from orca.store import locate_store, open_location, store_exists

    where = locate_store(home)
    if not store_exists(where):
        return ()
    with open_location(where) as store:
        groups = store.span_groups(group_by="model")
    return tuple(
        ModelUsage(g.key, g.input_tokens, g.output_tokens, g.cost) for g in groups if g.key
    )


def _gauges(home: Path) -> "Callable[[], HomeGauges]":
    """The collector's status as the server's gauges (read at each scrape; models every 30 s)."""
    from orca.collector import collector_status
    from orca.server import HomeGauges

    cached: dict[str, Any] = {"at": -MODELS_EVERY_S, "models": ()}

    def read() -> HomeGauges:
        st = collector_status(home)
        now = time.time()
        lag_s = 0.0
        for seg in st.segments:
            if seg.lag_bytes > 0:
                try:
                    mtime = (home / "journal" / seg.segment).stat().st_mtime
                except OSError:
                    continue
                lag_s = max(lag_s, now - mtime)
        t = st.totals
        return HomeGauges(
            collector_pid=st.collector_pid,
            lag_bytes=st.lag_bytes,
            lag_seconds=lag_s,
            quarantined=t.quarantined if t else 0,
            writer_drops=st.writer_drops,
            store_bytes=t.file_bytes if t else 0,
            traces=t.traces if t else 0,
            spans=t.spans if t else 0,
            ledger_lag_bytes=st.ledger.lag_bytes if st.ledger else 0,
            models=models(),
        )

    def models() -> "tuple[ModelUsage, ...]":
        if time.monotonic() - cached["at"] >= MODELS_EVERY_S:
            cached["models"], cached["at"] = _models(home), time.monotonic()
        return tuple(cached["models"])

    return read


@contextmanager
def _governed(home: Path) -> "Iterator[Orchestrator]":
    """The home's orchestrator under the home's policy and budgets (a fresh home is open)."""
    from orca.orchestrator import Governance, Orchestrator

    gov = Governance.open(home)  # a policy file that does not parse: one line, exit 2
    try:
        with Orchestrator.open(home, policy=gov, budget=gov) as orch:
            gov.bind(orch)
            yield orch
    finally:
        gov.close()


GIB = 1 << 30  # the largest request-body limit either option takes


@click.command("up")
@home_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=7340,
    show_default=True,
    help="Port (0: any free one; the URL is printed).",
)
@count_option(
    "--max-body", 1 << 20, "Largest request body accepted, in bytes (larger: 413).", min=1, max=GIB
)
@count_option(
    "--otlp-max-body",
    32 << 20,
    "Largest OTLP request body accepted at /v1/traces, in bytes.",
    min=1,
    max=GIB,
)
@click.option(
    "--otlp-grpc-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Also accept OTLP/gRPC on this port (default: off).",
)
@click.option("--otlp-export", default=None, metavar="URL", help="Forward traces to OTLP/HTTP.")
@click.option("--otlp-export-bodies", is_flag=True, help="With --otlp-export: send bodies too.")
@click.option("--no-collector", is_flag=True, help="Do not start a collector child.")
@click.option("--create", is_flag=True, help="Create the home if it does not exist yet.")
def up(
    home: Path | None,
    host: str,
    port: int,
    max_body: int,
    otlp_max_body: int,
    otlp_grpc_port: int | None,
    otlp_export: str | None,
    otlp_export_bodies: bool,
    no_collector: bool,
    create: bool,
) -> None:
    """Serve the home: HTTP API, SSE, /metrics and the collector, until Ctrl-C or SIGTERM.

    Listens on loopback unless --host says otherwise. One server per home: a
    second `orca up` on the same home names the first one's pid and exits 2.
    """
    from orca.collector import lock_holder
    from orca.server import ServerConfig, UpOptions, serve

    root = resolve_home(home)
    if not root.exists() and not create:
        fail(f"no ORCA home at {root}; record something first (orca run), or pass --create")
    if root.exists() and not root.is_dir():
        fail(f"{root} is a file, not an ORCA home; pass --home DIR")
    root.mkdir(parents=True, exist_ok=True)
    if otlp_export is not None:
        from orca.integrations.otlp import traces_url

        traces_url(otlp_export)  # a bad URL is one line before anything starts
    config = ServerConfig(
        home=root, max_body_bytes=max_body, gauges=_gauges(root), otlp_max_body_bytes=otlp_max_body
    )
    argv = [sys.executable, "-m", "orca", "collect", "--home", str(root)]
    opts = UpOptions(
        host=host,
        port=port,
        collector_argv=None if no_collector else [*argv, "--drain-on-stop"],
        drain_argv=[*argv, "--once"],
        collector_holder=lambda: lock_holder(root),
        open_orchestrator=lambda: _governed(root),
        say=lambda line: click.echo(line),
        otlp_grpc_port=otlp_grpc_port,
        otlp_export=otlp_export,
        otlp_export_bodies=otlp_export_bodies,
    )
    serve(config, opts)
