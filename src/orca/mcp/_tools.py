"""What each MCP tool computes: one call into the query room, bounded, with a way to get more.

Pure of the protocol: every function takes a :class:`Home` (where to read) and
returns a :class:`Result` — the structured value the tool's output schema
declares, plus the short text an agent reads. The MCP wiring in ``_server``
only registers these. Ids are resolved as the CLI resolves them (full id,
unique prefix, ``last``); a bad one raises :class:`~orca.errors.UsageError`
with the closest ids as a hint.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from orca._config import config_path, config_table
from orca._home import resolve_home
from orca.errors import UsageError
from orca.ledger import verify as verify_ledger
from orca.ledger.memory import MEMORY_FILE, WorkingMemory
from orca.mcp._bound import DEFAULT_MAX_TEXT, char_boundary, clip_text, fit_rows
from orca.query import (
    CHECKS,
    GROUP_BY,
    AmbiguousIdError,
    UnknownIdError,
    body_diff_json,
    checks_json,
    diff_attrs,
    diff_bodies,
    group_stats,
    prepare_checks,
    render_body_diff,
    render_checks,
    render_plain,
    render_search,
    render_stats,
    render_traces,
    resolve,
    run_checks,
    search_json,
    since_ns,
    skeleton,
    skeleton_json,
    span_detail_json,
    stats_json,
    summary_json,
)
from orca.store import SpanRow, TraceRows, TraceStore, open_store

BodyKind = Literal["request", "response"]
NOISY_ATTRS = ("http.request.header.", "http.response.header.")


@dataclass(frozen=True, slots=True)
class Result:
    """A tool's answer: ``data`` for ``structuredContent``, ``text`` for the agent to read."""

    data: dict[str, Any]
    text: str
    links: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Home:
    """Where the tools read, and how much one result may hold."""

    path: Path
    max_text: int = DEFAULT_MAX_TEXT

    @classmethod
    def at(cls, home: str | Path | None, max_text: int = DEFAULT_MAX_TEXT) -> "Home":
        return cls(resolve_home(home), max_text)

    @contextmanager
    def store(self) -> Iterator[TraceStore]:
        """The home's store, opened per call so each answer sees what the collector added."""
        if not self.path.is_dir():
            raise UsageError(
                f"no ORCA home at {self.path}; record something first (`orca run -- python app.py`)"
                " or start the server with --home"
            )
        store = open_store(self.path)
        try:
            yield store
        finally:
            store.close()


def body_uri(span_id: str, which: BodyKind) -> str:
    return f"orca://span/{span_id}/body/{which}"


def _resolve(store: TraceStore, ref: str, kind: Literal["trace", "span"]) -> str:
    """``resolve`` with the closest existing ids added to an unknown-id error."""
    try:
        return resolve(store, ref, kind)
    except AmbiguousIdError:
        raise
    except UnknownIdError as exc:
        ref = ref.strip().lower()
        near: list[str] = []
        for k in range(len(ref) - 1, 0, -1):
            if all(c in "0123456789abcdef" for c in ref[:k]):
                near = store.resolve_id(ref[:k], kind)
                if near:
                    break
        hint = f"; closest: {', '.join(n[:16] for n in near)}" if near else ""
        raise UnknownIdError(f"{exc}{hint}") from None


def _window(since: str | None) -> int | None:
    return since_ns(since, time.time_ns())


def _trace(store: TraceStore, ref: str) -> TraceRows:
    rows = store.get_trace(_resolve(store, ref, "trace"))
    if rows is None:
        raise UnknownIdError(f"trace {ref} vanished (pruned?)")
    return rows


def _span(store: TraceStore, ref: str) -> SpanRow:
    row = store.get_span(_resolve(store, ref, "span"))
    if row is None:
        raise UnknownIdError(f"span {ref} vanished (pruned?)")
    return row


def list_traces(
    home: Home,
    status: str | None = None,
    conversation: str | None = None,
    since: str | None = None,
    query: str | None = None,
    limit: int = 20,
) -> Result:
    """Traces newest first: how many match, then the rows that fit the bound."""
    if status not in (None, "ok", "error", "unfinished", "crashed"):
        raise UsageError(f"status {status!r}: use ok, error, unfinished or crashed")
    limit = max(1, min(limit, 1000))
    with home.store() as store:
        rows = store.list_traces(
            limit=None, since_ns=_window(since), status=status, conversation=conversation
        )
        if query:
            hit = {h.trace_id for h in store.search(query, since_ns=_window(since), limit=1000)}
            rows = [r for r in rows if r.trace_id in hit]
    count = len(rows)
    page, _ = fit_rows(rows[:limit], home.max_text, summary_json)
    left = count - len(page)
    more = f"{left} more: narrow with status/since/query or raise limit" if left else None
    data = {"count": count, "shown": len(page), "traces": [summary_json(s) for s in page]}
    data["more"] = more
    text = f"{count} traces match; {len(page)} shown\n" + render_traces(page)
    return Result(data, clip_text(text, home.max_text, more))


def skeleton_of(home: Home, trace: str, fold: bool = True, max_lines: int = 200) -> Result:
    """One line per span (folded), the first thing to read about a trace."""
    max_lines = max(1, max_lines)
    with home.store() as store:
        rows = _trace(store, trace)
    sk = skeleton(rows, fold_after=6 if fold else 10**9)
    doc = skeleton_json(sk)
    total = len(doc["lines"])
    lines, _ = fit_rows(doc["lines"][:max_lines], home.max_text)
    tid = sk.summary.trace_id
    more = (
        f"{total - len(lines)} more lines: call skeleton(trace={tid[:12]!r}, max_lines=…)"
        " or open a span with span(span=…)"
        if len(lines) < total
        else None
    )
    data = {"trace": doc["trace"], "total_lines": total, "lines": lines, "more": more}
    text_lines = render_plain(sk).splitlines()
    text = "\n".join(text_lines[: len(lines) + 1]) + "\n"
    return Result(data, clip_text(text, home.max_text, more), [f"orca://trace/{tid}"])


def _slice(raw: bytes, offset: int, max_bytes: int) -> tuple[str, int, int | None]:
    """Text of ``raw[offset:offset+max_bytes]`` on character boundaries, its start, next cursor."""
    start = char_boundary(raw, offset)
    if 0 < start < len(raw) and start < offset:
        start = offset  # a cursor inside a character: step to the next character
        while start < len(raw) and raw[start] & 0xC0 == 0x80:
            start += 1
    end = char_boundary(raw, start + max_bytes) if start + max_bytes < len(raw) else len(raw)
    if end <= start and start < len(raw):
        end = min(len(raw), start + max_bytes)
    nxt = end if end < len(raw) else None
    return raw[start:end].decode("utf-8", "backslashreplace"), start, nxt


def span_of(
    home: Home,
    span: str,
    body: BodyKind | None = None,
    offset: int = 0,
    max_bytes: int = 2048,
    attrs: str | None = None,
) -> Result:
    """One span: attributes, links, logs; with ``body``, one bounded slice of it and a cursor.

    HTTP headers are transport noise for most questions: they are counted, not
    shown, unless ``attrs`` names a prefix to show (``"http."``, or ``""`` for all).
    """
    if body not in (None, "request", "response"):
        raise UsageError(f"body {body!r}: use request or response")
    offset, max_bytes = max(0, offset), max(1, min(max_bytes, home.max_text))
    with home.store() as store:
        row = _span(store, span)
        logs, links = store.span_logs(row.span_id), store.span_links(row.span_id)
        raw = None
        if body is not None:
            sha = row.request_body if body == "request" else row.response_body
            total = row.request_body_bytes if body == "request" else row.response_body_bytes
            # Only the window the slice needs (plus a character's width either side):
            # a 20 MB body in the blob store is not read whole for a 2 KB page.
            lo = max(0, offset - 4)
            raw = store.body_range(sha, lo, offset + max_bytes + 4 - lo) if sha else None
    doc = span_detail_json(row, logs, links, [])
    doc.pop("bodies")
    every = sorted(doc["attrs"].items())
    if attrs is None:  # transport noise stays out unless asked for by prefix
        shown = [(k, v) for k, v in every if not k.startswith(NOISY_ATTRS)]
    else:
        shown = [(k, v) for k, v in every if k.startswith(attrs)]
    kept, _ = fit_rows(shown, home.max_text // 2)
    doc["attrs"] = dict(kept)
    cut = len(every) - len(kept)
    doc["attrs_left_out"] = cut
    doc["logs"], logs_cut = fit_rows(doc["logs"], home.max_text // 4)
    doc["logs_left_out"] = logs_cut
    sid = row.span_id
    sizes = {"request": row.request_body_bytes, "response": row.response_body_bytes}
    have = {"request": row.request_body, "response": row.response_body}
    doc["bodies"] = [
        {"which": w, "bytes": sizes[w], "uri": body_uri(sid, w)}
        for w in ("request", "response")
        if have[w]
    ]
    links_out = [b["uri"] for b in doc["bodies"]]
    lines = [
        f"span {sid} {doc['span']['name']} [{doc['span']['status']}] {doc['span']['summary']}",
        *(f"  {k} = {v!r}" for k, v in doc["attrs"].items()),
    ]
    if cut:
        lines.append(f"  … {cut} more attributes: span(span={sid[:12]!r}, attrs='http.')")
    lines += [f"  link {ln['direction']} {ln['span_id']} ({ln['reason']})" for ln in doc["links"]]
    lines += [f"  log {lg['level']}: {lg['msg']}" for lg in doc["logs"]]
    more = None
    if body is None:
        lines += [
            f"  {b['which']} body: {b['bytes']} bytes → span(body={b['which']!r})"
            for b in doc["bodies"]
        ]
        doc["slice"] = None
    elif raw is None:
        doc["slice"] = None
        lines.append(f"  no {body} body recorded (or pruned)")
    else:
        text, start, nxt = _slice(raw, min(offset - lo, len(raw)), max_bytes)
        total = max(total, lo + len(raw)) if raw else total  # the row's size, or what was read
        start = min(start + lo, total)
        nxt = None if nxt is None else nxt + lo
        if nxt is None and start + len(text.encode()) < total:
            nxt = start + len(text.encode())
        doc["slice"] = {
            "which": body,
            "offset": start,
            "bytes": len(text.encode()),
            "total": total,
            "next_offset": nxt,
            "text": text,
            "uri": body_uri(sid, body),
        }
        if nxt is not None:
            more = f"next slice: span(span={sid[:12]!r}, body={body!r}, offset={nxt})"
        lines.append(f"--- {body} body bytes {start}..{start + len(text.encode())} of {total}")
        lines.append(text)
    doc["more"] = more
    text_out = "\n".join(lines) + "\n" + (f"{more}\n" if more else "")
    return Result(doc, clip_text(text_out, home.max_text + max_bytes, more), links_out)


def diff_of(
    home: Home,
    a: str,
    b: str,
    mode: Literal["semantic", "bytes"] = "semantic",
    body: BodyKind = "request",
) -> Result:
    """What changed between two spans' bodies (semantic and byte views) and attributes."""
    if mode not in ("semantic", "bytes"):
        raise UsageError(f"mode {mode!r}: use semantic or bytes")
    with home.store() as store:
        sa, sb = _span(store, a), _span(store, b)
        sha_a = sa.request_body if body == "request" else sa.response_body
        sha_b = sb.request_body if body == "request" else sb.response_body
        ba = store.get_body(sha_a) if sha_a else None
        bb = store.get_body(sha_b) if sha_b else None
    d = diff_bodies(ba, bb)
    dj = body_diff_json(d)
    changes = diff_attrs(sa.attrs, sb.attrs)
    rows, cut = fit_rows([{"key": c.key, "a": c.a, "b": c.b} for c in changes], home.max_text // 2)
    if mode == "bytes":
        dj.pop("semantic", None)
    data = {
        "a": sa.span_id,
        "b": sb.span_id,
        "mode": mode,
        "body": body,
        "diff": dj,
        "attrs": rows,
        "attrs_left_out": cut,
    }
    lines = [f"A {sa.span_id} {sa.name}", f"B {sb.span_id} {sb.name}"]
    lines += render_body_diff(d, f"{body} body")
    lines += [f"  {r['key']}: {r['a']!r} → {r['b']!r}" for r in rows]
    more = f"{cut} more attribute changes" if cut else None
    data["more"] = more
    return Result(data, clip_text("\n".join(lines) + "\n", home.max_text, more))


def check_of(home: Home, trace: str | None = None, only: str | None = None) -> Result:
    """The bug catalog over one trace (or the newest 200): verdicts first, proofs cited."""
    where = f"{config_path(home.path)} [checks]"
    cfg = prepare_checks(config_table(home.path, "checks"), where)  # thresholds, user checks
    names = None if only is None else [n.strip() for n in only.split(",") if n.strip()]
    if names is not None and (not names or any(n not in CHECKS for n in names)):
        bad = next((n for n in names if n not in CHECKS), "")
        raise UsageError(f"no such check {bad!r}; known: {', '.join(CHECKS)}")
    with home.store() as store:
        if trace:
            traces = [_trace(store, trace)]
        else:
            traces = [
                t
                for s in store.list_traces(limit=200)
                if (t := store.get_trace(s.trace_id)) is not None
            ]
        if not traces:
            raise UsageError("no traces to check; record something first")
        results = run_checks(traces, body=store.get_body, only=names, config=cfg)
    doc = checks_json(results, traces)
    findings = doc["findings"]  # root cause first, each with caused_by and next
    kept, cut = fit_rows(findings, home.max_text)
    more = f"{cut} more findings: call check(only=…) per check" if cut else None
    data = {
        "passed": doc["passed"],
        "traces": [t.summary.trace_id for t in traces],
        "verdicts": [
            {"name": c["name"], "passed": c["passed"], "verdict": c["verdict"]}
            for c in doc["checks"]
        ],
        "findings": kept,
        "findings_left_out": cut,
        "more": more,
    }
    text = render_checks(results, traces)
    return Result(data, clip_text(text, home.max_text, more))


def stats_of(home: Home, by: str = "name", since: str | None = None) -> Result:
    """Counts, error rate, p50/p95, tokens and cost per group."""
    if by not in GROUP_BY:
        raise UsageError(f"by {by!r}: use one of {', '.join(GROUP_BY)}")
    with home.store() as store:
        rows = group_stats(store.span_groups(group_by=by, since_ns=_window(since)))
    doc = stats_json(rows, by)
    doc["groups"], cut = fit_rows(doc["groups"], home.max_text)
    more = f"{cut} more groups: narrow with since" if cut else None
    doc["more"] = more
    return Result(doc, clip_text(render_stats(rows, by), home.max_text, more))


def search_of(home: Home, query: str, limit: int = 20) -> Result:
    """Full-text matches newest first, each with a snippet and its span."""
    if not query.strip():
        raise UsageError("empty query: give words to search for")
    with home.store() as store:
        hits = store.search(query, limit=max(1, min(limit, 200)))
    doc = search_json(query, hits)
    doc["hits"], cut = fit_rows(doc["hits"], home.max_text)
    more = f"{cut} more hits: refine the query" if cut else None
    doc["more"] = more
    return Result(doc, clip_text(render_search(hits), home.max_text, more))


def ledger_events(
    home: Home,
    run: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    limit: int = 50,
) -> Result:
    """Governed actions (the ledger as the store mirrors it), oldest first."""
    with home.store() as store:
        rows = store.ledger_entries(run=run, since_ns=_window(since))
    if kind:
        rows = [r for r in rows if r.kind == kind or r.kind.startswith(kind + ".")]
    total = len(rows)
    rows = rows[-max(1, limit) :]
    enc = [
        {
            "id": r.id,
            "ts_ns": r.ts_ns,
            "kind": r.kind,
            "run": r.run,
            "trace_id": r.trace_id,
            "span_id": r.span_id,
            "actor": r.actor,
            "erased": r.erased,
            "args": r.args,
            "result": r.result,
        }
        for r in rows
    ]
    kept, _ = fit_rows(enc[::-1], home.max_text)
    kept.reverse()
    more = (
        f"{total - len(kept)} older entries: filter by run/kind/since"
        if total > len(kept)
        else None
    )
    text = "\n".join(
        f"#{e['id']} {e['kind']} by {e['actor'] or '-'} run={e['run'] or '-'}" for e in kept
    )
    data = {"count": total, "entries": kept, "more": more}
    return Result(data, clip_text(text + "\n", home.max_text, more))


def memory_of(
    home: Home, tags: list[str] | None = None, run: str | None = None, limit: int = 20
) -> Result:
    """Working memory derived from the ledger, newest first."""
    path = home.path / "ledger" / MEMORY_FILE
    items: list[dict[str, Any]] = []
    if path.exists():
        mem = WorkingMemory(path)
        try:
            items = [m.to_dict() for m in mem.query(tags=tags, run=run, limit=max(1, limit))]
        finally:
            mem.close()
    kept, cut = fit_rows(items, home.max_text)
    more = f"{cut} more: filter by tags or run" if cut else None
    text = "\n".join(
        f"{m.get('entry_id')} {','.join(m.get('tags', []))}: {str(m.get('summary', ''))[:120]}"
        for m in kept
    )
    return Result(
        {"count": len(items), "items": kept, "more": more},
        clip_text(text + "\n", home.max_text, more),
    )


def verify_of(home: Home) -> Result:
    """The ledger's integrity verdict (hash chain, signatures, Merkle checkpoints)."""
    if not (home.path / "ledger").is_dir():
        raise UsageError(f"no ledger in {home.path}; nothing governed was recorded yet")
    report = verify_ledger(home.path)
    doc = report.to_dict()
    doc["problems"], _ = fit_rows(doc.get("problems", []), home.max_text)
    text = (
        ("OK" if report.ok else "DAMAGED")
        + f": {report.entries} entries, "
        + (f"{len(report.problems)} problems\n" + "\n".join(p.line() for p in report.problems[:10]))
    )
    return Result(doc, clip_text(text + "\n", home.max_text, None))


def whole_body(home: Home, span: str, which: str) -> bytes:
    """A span's whole body (the target of the ``resource_link`` a slice carries)."""
    if which not in ("request", "response"):
        raise UsageError(f"body {which!r}: use request or response")
    with home.store() as store:
        row = _span(store, span)
        sha = row.request_body if which == "request" else row.response_body
        raw = store.get_body(sha) if sha else None
    if raw is None:
        raise UnknownIdError(f"span {row.span_id} has no {which} body (never recorded or pruned)")
    return raw


def runs_of(home: Home, limit: int = 20) -> Result:
    """Orchestrated runs newest first (read from the ledger; no orchestrator needs to run)."""
    from orca.orchestrator import list_runs

    if not (home.path / "ledger").is_dir():
        raise UsageError(f"no ledger in {home.path}; no run was orchestrated yet")
    rows = [r.to_dict() for r in list_runs(home.path, limit=max(1, min(limit, 500)))]
    kept, cut = fit_rows(rows, home.max_text)
    more = f"{cut} more runs: raise limit or open one with run(run=…)" if cut else None
    text = "\n".join(
        f"{r['id']} {r['workflow']} {r['status']} tasks={r['tasks']} dead={r['dead_lettered']}"
        f" expired={r['expired']} attempts={r['attempts']}"
        for r in kept
    )
    return Result(
        {"count": len(rows), "runs": kept, "more": more},
        clip_text((text or "no runs yet") + "\n", home.max_text, more),
    )


def run_of(home: Home, run: str) -> Result:
    """One run: tasks with attempts and outcomes, dead letters, rejections, budget usage."""
    from orca.orchestrator import run_governance, show_run

    if not (home.path / "ledger").is_dir():
        raise UsageError(f"no ledger in {home.path}; no run was orchestrated yet")
    d = show_run(home.path, run)
    gov = run_governance(home.path, d.summary.id).to_dict()
    doc = d.to_dict()
    doc["tasks"], cut = fit_rows(doc.get("tasks", []), home.max_text // 2)
    doc["tasks_left_out"] = cut
    doc["governance"] = gov
    more = f"{cut} more tasks: call ledger_events(run={d.summary.id!r})" if cut else None
    doc["more"] = more
    lines = [
        f"run {d.summary.id} {d.summary.workflow} {d.summary.status} trace {d.summary.trace_id}"
    ]
    for t in d.tasks:
        tries = ", ".join(f"#{a.attempt} {a.agent}: {a.outcome or 'running'}" for a in t.attempts)
        lines.append(f"  {t.id} {t.sender} → {t.recipient} {t.status} [{tries}]")
    lines += [f"  rejected {r.get('envelope')}: {r.get('code')}" for r in d.rejections]
    return Result(doc, clip_text("\n".join(lines) + "\n", home.max_text, more))
