"""``orca span`` and ``orca diff``: drill into one span, or compare two."""

from pathlib import Path
from typing import Literal, cast

import click

from orca.cli._common import home_option, json_option, print_json
from orca.cli._options import count
from orca.cli._qcommon import emit, full_id, reader
from orca.query import (
    DEFAULT_MAX_BYTES,
    body_diff_json,
    body_slices,
    breakpoints_json,
    compare_breakpoints,
    diff_attrs,
    diff_bodies,
    fmt_duration,
    render_body_diff,
    render_breakpoints,
    render_span,
    span_detail_json,
)
from orca.query._resolve import UnknownIdError
from orca.store import SpanRow, TraceReader


def _get(store: TraceReader, ref: str) -> SpanRow:
    span_id = full_id(store, ref, "span")
    span = store.get_span(span_id)
    if span is None:
        raise UnknownIdError(f"span {span_id} vanished (pruned?)")
    return span


def _head(store: TraceReader, sha: str, max_bytes: int) -> bytes | None:
    """The first ``max_bytes`` of a body: a blob streams only that much from disk."""
    stream = store.open_body(sha)
    if stream is None:
        return None
    with stream:
        return stream.read(max_bytes)


@click.command("span")
@home_option
@json_option
@click.argument("span_ref", metavar="ID")
@click.option(
    "--body",
    "which",
    type=click.Choice(["request", "response", "both", "none"]),
    default="both",
    show_default=True,
)
@click.option(
    "--max-bytes",
    type=count(0, 1 << 40),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Never print more body bytes than this (in total).",
)
def span(home: Path | None, as_json: bool, span_ref: str, which: str, max_bytes: int) -> None:
    """One span in full: attributes, links both ways, logs inside it, body slices."""
    with reader(home) as store:
        row = _get(store, span_ref)
        logs = store.span_logs(row.span_id)
        links = store.span_links(row.span_id)
        slices = []
        if which != "none":
            shas = [s for s in (row.request_body, row.response_body) if s]
            bodies = {sha: _head(store, sha, max_bytes) for sha in shas}
            kind = cast(Literal["request", "response", "both"], which)
            slices = body_slices(row, bodies, kind, max_bytes)
    if as_json:
        print_json(span_detail_json(row, logs, links, slices))
    else:
        emit(render_span(row, logs, links, slices))


@click.command("diff")
@home_option
@json_option
@click.argument("span_a", metavar="SPAN_A")
@click.argument("span_b", metavar="SPAN_B")
@click.option(
    "--body",
    "which",
    type=click.Choice(["request", "response"]),
    default="request",
    show_default=True,
)
def diff(home: Path | None, as_json: bool, span_a: str, span_b: str, which: str) -> None:
    """What changed between two spans: body bytes, body meaning, and attributes."""
    with reader(home) as store:
        a, b = _get(store, span_a), _get(store, span_b)
        sha_a = a.request_body if which == "request" else a.response_body
        sha_b = b.request_body if which == "request" else b.response_body
        body_a = store.get_body(sha_a) if sha_a else None
        body_b = store.get_body(sha_b) if sha_b else None
    d = diff_bodies(body_a, body_b)
    changes = diff_attrs(a.attrs, b.attrs)
    verdicts = compare_breakpoints(a, body_a, b, body_b) if which == "request" else None
    if as_json:
        doc = {
            "a": a.span_id,
            "b": b.span_id,
            "body": which,
            f"{which}_body": body_diff_json(d),
            "attrs": [{"key": c.key, "a": c.a, "b": c.b} for c in changes],
            "duration_ns": {"a": a.duration_ns, "b": b.duration_ns},
        }
        if verdicts is not None:
            doc["cache_breakpoints"] = breakpoints_json(verdicts)
        print_json(doc)
        return
    out = [
        f"A {a.span_id} {a.name} {fmt_duration(a.duration_ns)} [{a.status}]",
        f"B {b.span_id} {b.name} {fmt_duration(b.duration_ns)} [{b.status}]",
        *render_body_diff(d, f"{which} body"),
        *(render_breakpoints(verdicts) if verdicts is not None else ()),
    ]
    if changes:
        out.append(f"attributes: {len(changes)} changed")
        out.extend(f"  {c.key}: {c.a!r} → {c.b!r}" for c in changes)
    else:
        out.append("attributes: identical")
    emit("\n".join(out) + "\n")
