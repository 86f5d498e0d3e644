"""``orca check`` as text and JSON: the root cause on the first line, the next command under it.

Text is what a debugging agent reads first, so it is ordered by
:func:`rank_findings` and bounded: each finding is its line, the span ids
that prove it, the command to run next, and the symptoms it explains folded
under it; at most ``max_listed`` findings per check are printed (``--json``
has them all). Passing checks follow, one ``ok`` line each.
"""

from collections.abc import Sequence
from typing import Any, Final

from orca.query._format import clip, short_id, short_trace
from orca.query._registry import CHECKS, CheckResult
from orca.query._rootcause import Ranked, rank_findings
from orca.store import TraceRows

MAX_LISTED: Final = 5
MAX_PROOF_IDS: Final = 6
MAX_FOLDED_SHOWN: Final = 3
FOLDED_CHARS: Final = 110


def _explains_text(it: Ranked, ranked_by_id: dict[str, Ranked]) -> str:
    kinds = [ranked_by_id[i].check for i in it.explains]
    errors = sum(1 for k in kinds if k == "error-span")
    parts = []
    if errors:
        parts.append(f"{errors} error" + ("s" if errors > 1 else ""))
    for name, word in (("unfinished-span", "unfinished span"), ("slow-span", "slow span")):
        n = sum(1 for k in kinds if k == name)
        if n:
            parts.append(f"{n} {word}" + ("s" if n > 1 else ""))
    return "explains " + " and ".join(parts) if parts else ""


def render_checks(
    results: Sequence[CheckResult],
    traces: Sequence[TraceRows] = (),
    max_listed: int = MAX_LISTED,
) -> str:
    """Findings root cause first (with proof, next step and folded symptoms), then the passes."""
    width = max((len(r.name) for r in results), default=0)
    ranked = rank_findings(results, traces)
    by_id = {it.id: it for it in ranked}
    pad = " " * 5
    out: list[str] = []
    shown: dict[str, int] = {}
    for it in ranked:
        if it.caused_by is not None:
            continue
        shown[it.check] = shown.get(it.check, 0) + 1
        if shown[it.check] > max_listed:
            continue
        f = it.finding
        tail = _explains_text(it, by_id)
        out.append(f"✖  {it.check:<{width}}  {f.message}" + (f" — {tail}" if tail else ""))
        ids = " ".join(short_id(i) for i in f.span_ids[:MAX_PROOF_IDS])
        if len(f.span_ids) > MAX_PROOF_IDS:
            ids += f" (+{len(f.span_ids) - MAX_PROOF_IDS})"
        trace = f" trace {short_trace(f.trace_id)}" if f.trace_id else ""
        out.append(f"{pad}proof {ids}{trace}".rstrip())
        out.append(f"{pad}next  {it.next}")
        for k, fid in enumerate(it.explains):
            if k == MAX_FOLDED_SHOWN:
                out.append(f"{pad}↳ … {len(it.explains) - k} more")
                break
            sub = by_id[fid]
            out.append(f"{pad}↳ {sub.check}: {clip(sub.finding.message, FOLDED_CHARS)}")
    for name, n in shown.items():
        if n > max_listed:
            out.append(f"… {n - max_listed} more {name} findings (all of them: --json)")
    for r in results:
        if r.error is not None:
            out.append(f"✖  {r.name:<{width}}  {r.verdict}")
    for r in results:
        if r.passed:
            note = f" (note: {r.note})" if r.note else ""
            out.append(f"ok {r.name:<{width}}  {r.verdict}{note}")
    failed = sum(1 for r in results if not r.passed)
    out.append(f"{failed} of {len(results)} checks failed" if failed else "all checks passed")
    return "\n".join(out) + "\n"


def _finding_json(it: Ranked) -> dict[str, Any]:
    f = it.finding
    return {
        "id": it.id,
        "check": it.check,
        "message": f.message,
        "span_ids": f.span_ids,
        "trace_id": f.trace_id,
        "next": it.next,
        "caused_by": it.caused_by,
        "explains": it.explains,
    }


def checks_json(results: Sequence[CheckResult], traces: Sequence[TraceRows] = ()) -> dict[str, Any]:
    """``{"passed", "findings": [root cause first, with caused_by], "checks": [per check]}``."""
    ranked = rank_findings(results, traces)
    by_check: dict[str, list[dict[str, Any]]] = {}
    for it in ranked:
        by_check.setdefault(it.check, []).append(_finding_json(it))
    for docs in by_check.values():
        docs.sort(key=lambda d: int(str(d["id"]).rsplit(":", 1)[1]))
    return {
        "passed": all(r.passed for r in results),
        "findings": [_finding_json(it) for it in ranked],
        "checks": [
            {
                "name": r.name,
                "passed": r.passed,
                "verdict": r.verdict,
                "note": r.note,
                "error": r.error,
                "findings": by_check.get(r.name, []),
            }
            for r in results
        ],
    }


def list_checks_json() -> list[dict[str, Any]]:
    """Every registered check: name, built-in or where it comes from, and what it finds."""
    return [
        {
            "name": s.name,
            "builtin": s.builtin,
            "origin": s.origin,
            "role": s.role,
            "about": s.about,
            "ok": s.ok,
        }
        for s in CHECKS.values()
    ]


def render_check_list() -> str:
    """``orca check --list``: one line per check, built-in and user checks alike."""
    specs = list(CHECKS.values())
    width = max((len(s.name) for s in specs), default=0)
    out = []
    for s in specs:
        where = "built-in" if s.builtin else f"user: {s.origin}"
        out.append(f"{s.name:<{width}}  {s.about}  [{where}]")
    return "\n".join(out) + "\n"
