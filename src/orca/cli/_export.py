"""``orca export otlp``: send stored traces to any OTLP/HTTP backend (Jaeger, Phoenix, …)."""

import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click

from orca.cli._common import existing_home, home_option, json_option, print_json
from orca.cli._qcommon import full_id, reader, since_option, window


@click.group("export")
def export() -> None:
    """Send ORCA's traces elsewhere."""


@export.command("otlp")
@home_option
@json_option
@click.option("--endpoint", required=True, metavar="URL", help="OTLP/HTTP base URL or traces URL.")
@since_option
@click.option("--trace", "trace_ref", default=None, metavar="ID|last", help="Only this trace.")
@click.option("--follow", is_flag=True, help="Keep sending new traces until stopped.")
@click.option("--with-bodies", is_flag=True, help="Send bodies as gen_ai.input/output.messages.")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 3600),
    default=1.0,
    show_default=True,
    help="With --follow: seconds between passes.",
)
def otlp(
    home: Path | None,
    as_json: bool,
    endpoint: str,
    since: timedelta | None,
    trace_ref: str | None,
    follow: bool,
    with_bodies: bool,
    interval: float,
) -> None:
    """Export finished traces as OTLP protobuf; a cursor in the home makes reruns resume."""
    from orca.integrations.otlp import Cursor, Exporter, traces_url

    traces_url(endpoint)  # a bad URL is one line before anything is read
    root = existing_home(home)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if follow:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    exporter = Exporter(endpoint, Cursor.load(root, endpoint), with_bodies=with_bodies)
    total = 0
    with reader(root) as store:
        ids = [full_id(store, trace_ref, "trace")] if trace_ref else None
        while True:
            total += exporter.step(store, trace_ids=ids, since_ns=window(since))
            if not follow or ids is not None or stop.wait(interval):
                break
    url = traces_url(endpoint)
    if as_json:
        print_json({"endpoint": url, "traces": total, "spans": exporter.sent_spans})
    else:
        click.echo(f"exported {total} traces ({exporter.sent_spans} spans) to {url}")
