"""Replay views of the ledger: a filtered, bounded slice and its trace-shaped projection.

Pure functions over entries read straight from the ledger file (no store, no
collector), so ``orca replay`` works on a home nobody has collected, and the
same inputs always give byte-identical output. Ranges are half-open:
``from_id`` is included, ``to_id`` is not.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from orca.ledger._errors import LedgerError
from orca.ledger._format import Entry


def parse_since(value: str) -> int:
    """Unix nanoseconds from an integer (ns) or an ISO-8601 time (UTC when no zone is given)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError(
            f"--since {value!r} is neither Unix nanoseconds nor an ISO-8601 time"
        ) from None
    if dt.tzinfo is None:
        from datetime import UTC

        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1_000_000) * 1000


def select(
    entries: Iterable[Entry],
    *,
    run: str | None = None,
    from_id: int | None = None,
    to_id: int | None = None,
    since: int | None = None,
    max_entries: int | None = None,
) -> list[Entry]:
    """Entries in id order matching every given filter, at most ``max_entries`` of them."""
    if max_entries is not None and max_entries < 0:
        raise LedgerError("--max must be zero or more")
    out: list[Entry] = []
    for e in sorted(entries, key=lambda x: x.id):
        if max_entries is not None and len(out) >= max_entries:
            break
        if run is not None and e.run != run:
            continue
        if from_id is not None and e.id < from_id:
            continue
        if to_id is not None and e.id >= to_id:
            continue
        if since is not None and e.ts < since:
            continue
        out.append(e)
    return out


def to_trace(entries: Iterable[Entry]) -> dict[str, Any]:
    """Entries grouped by trace (then by run), each group in id order: a trace-shaped export.

    Entries without a trace are grouped under ``null``. Output order depends
    only on the entries, never on the clock or hash-map order.
    """
    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in sorted(entries, key=lambda x: x.id):
        groups.setdefault((e.trace or "", e.run or ""), []).append(e)
    traces: list[dict[str, Any]] = []
    count = 0
    for (trace, run), items in sorted(groups.items(), key=lambda kv: kv[1][0].id):
        traces.append(
            {
                "trace": trace or None,
                "run": run or None,
                "start_ts": items[0].ts,
                "end_ts": items[-1].ts,
                "entries": [_event(e) for e in items],
            }
        )
        count += len(items)
    return {"version": 1, "count": count, "traces": traces}


def _event(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "ts": e.ts,
        "kind": e.kind,
        "actor": e.actor,
        "span": e.span,
        "args": e.args,
        "result": e.result,
        "meta": e.meta,
        "erased": e.erased,
        "hash": e.hash,
        "signature_key": e.key,
    }


def inspect_line(e: Entry) -> str:
    """One fixed-width line per entry for ``orca replay inspect``."""
    from datetime import UTC

    when = datetime.fromtimestamp(e.ts / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    corr = " ".join(
        f"{k}={v}" for k, v in (("run", e.run), ("trace", e.trace), ("span", e.span)) if v
    )
    who = e.actor or "-"
    tail = " [payload erased]" if e.erased else ""
    return f"#{e.id:<6} {when} {e.kind:<20} {who:<16} {corr}{tail}".rstrip()
