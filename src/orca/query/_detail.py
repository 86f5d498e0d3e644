"""One span in full: attributes, links both ways, the logs inside it, and body slices.

Store fat, serve thin: bodies can be megabytes, so a reader gets at most
``max_bytes`` of them in total (default 4 KB), always told how much was left
out and how to get the rest.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from orca.query._format import fmt_duration, short_trace
from orca.query._labels import label
from orca.query._skeleton import iso_ns
from orca.store import LinkRow, LogRow, SpanRow

DEFAULT_MAX_BYTES: Final = 4096  # body bytes one span view shows in all (--max-bytes, max_bytes)
Which = Literal["request", "response", "both"]


@dataclass(frozen=True, slots=True)
class BodySlice:
    """The part of one body a reader is shown, and how much of it was left out."""

    which: Literal["request", "response"]
    sha256: str | None
    total: int  # the whole body's size in bytes
    text: str  # the slice shown (its first bytes, decoded)
    left_out: int  # bytes not shown
    missing: bool  # referenced but not in the store (pruned), or never recorded


def _budget(sizes: list[int], max_bytes: int) -> list[int]:
    """Split ``max_bytes`` across bodies: small ones whole, the rest share what remains."""
    out = [0] * len(sizes)
    left = max_bytes
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for n, i in enumerate(order):
        share = left // (len(sizes) - n)
        out[i] = min(sizes[i], share)
        left -= out[i]
    return out


def body_slices(
    span: SpanRow,
    bodies: Mapping[str, bytes | None],
    which: Which = "both",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[BodySlice]:
    """The head of each asked-for body, never more than ``max_bytes`` in total.

    ``bodies`` may hold only each body's head (at least ``max_bytes`` of it, as
    the CLI reads from ``open_body``): sizes come from the span row, so a
    20 MB body costs a 4 KB read.
    """
    wanted: list[tuple[Literal["request", "response"], str | None, int]] = []
    if which in ("request", "both"):
        wanted.append(("request", span.request_body, span.request_body_bytes))
    if which in ("response", "both"):
        wanted.append(("response", span.response_body, span.response_body_bytes))
    raws = [bodies.get(sha) if sha else None for _, sha, _ in wanted]
    sizes = [
        max(len(r), nbytes) if r is not None else 0
        for (_, _, nbytes), r in zip(wanted, raws, strict=True)
    ]
    cuts = _budget(sizes, max(0, max_bytes))
    out = []
    for (kind, sha, nbytes), raw, cut, size in zip(wanted, raws, cuts, sizes, strict=True):
        if raw is None:
            out.append(BodySlice(kind, sha, nbytes, "", 0, sha is not None))
            continue
        text = raw[:cut].decode("utf-8", "backslashreplace")
        out.append(BodySlice(kind, sha, size, text, size - cut, False))
    return out


def span_detail_json(
    span: SpanRow,
    logs: Sequence[LogRow],
    links: Sequence[LinkRow],
    slices: Sequence[BodySlice],
) -> dict[str, Any]:
    """The documented ``orca span --json`` shape (docs/query.md)."""
    return {
        "span": {
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_id": span.parent_id,
            "name": span.name,
            "component": span.component,
            "start_ns": span.start_ns,
            "end_ns": span.end_ns,
            "duration_ns": span.duration_ns,
            "status": span.status,
            "pid": span.pid,
            "synthetic": span.synthetic,
            "summary": " ".join(t for t, _ in label(span)),
        },
        "attrs": dict(sorted(span.attrs.items())),
        "links": [
            {
                "direction": "out" if ln.span_id == span.span_id else "in",
                "trace_id": ln.to_trace_id if ln.span_id == span.span_id else ln.trace_id,
                "span_id": ln.to_span_id if ln.span_id == span.span_id else ln.span_id,
                "reason": ln.reason,
                "attrs": ln.attrs,
            }
            for ln in links
        ],
        "logs": [
            {"ts_ns": lg.ts_ns, "level": lg.level, "msg": lg.msg, "attrs": lg.attrs} for lg in logs
        ],
        "bodies": [
            {
                "which": b.which,
                "sha256": b.sha256,
                "bytes": b.total,
                "text": b.text,
                "left_out": b.left_out,
                "missing": b.missing,
            }
            for b in slices
        ],
    }


def render_span(
    span: SpanRow,
    logs: Sequence[LogRow],
    links: Sequence[LinkRow],
    slices: Sequence[BodySlice],
) -> str:
    """Plain text: header, attributes one per line, links, logs, then body slices."""
    s = span
    out = [
        f"span {s.span_id} {s.name} [{s.status}] in trace {s.trace_id}",
        f"  {' '.join(t for t, _ in label(s))}",
        f"  parent {s.parent_id or '-'}  component {s.component}  pid {s.pid or '-'}"
        f"  start {iso_ns(s.start_ns)}  duration {fmt_duration(s.duration_ns)}"
        + ("  synthetic" if s.synthetic else ""),
    ]
    if s.attrs:
        out.append("attributes:")
        width = max(len(k) for k in s.attrs)
        out.extend(f"  {k:<{width}} = {v!r}" for k, v in sorted(s.attrs.items()))
    if links:
        out.append("links:")
        for ln in links:
            if ln.span_id == s.span_id:
                out.append(
                    f"  → {ln.to_span_id} (trace {short_trace(ln.to_trace_id)}) {ln.reason or ''}"
                )
            else:
                out.append(f"  ← {ln.span_id} (trace {short_trace(ln.trace_id)}) {ln.reason or ''}")
    if logs:
        out.append("logs:")
        for lg in logs:
            extra = " " + " ".join(f"{k}={v!r}" for k, v in lg.attrs.items()) if lg.attrs else ""
            out.append(f"  {iso_ns(lg.ts_ns)} {lg.level:<5} {lg.msg}{extra}")
    # The byte budget is shared by every body shown, so "show all" must cover them all.
    whole = sum(b.total for b in slices if b.sha256 is not None and not b.missing)
    for b in slices:
        if b.sha256 is None:
            out.append(f"{b.which} body: none recorded")
            continue
        if b.missing:
            out.append(f"{b.which} body: {b.total} bytes, not in the store (pruned)")
            continue
        out.append(f"{b.which} body ({b.total} bytes, sha256 {b.sha256[:12]}):")
        out.append(b.text)
        if b.left_out:
            out.append(f"… {b.left_out} more bytes left out (--max-bytes {whole} shows all)")
    return "\n".join(out).rstrip("\n") + "\n"
