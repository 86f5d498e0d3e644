"""``orca stats`` and the slow-span baseline read groups computed in SQL."""

import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from orca.cli import cli
from orca.query import stats
from orca.store import SQLiteStore, items_from

MS = 1_000_000


def _trace(n: int, t0: int, durations_ms: list[float]) -> list[dict[str, Any]]:
    """One turn with a ``step`` child per duration (model m-1, 10 tokens, $0.01 each)."""
    trace = f"{n + 1:032x}"
    base = {"v": 1, "component": "svc", "trace": trace}
    root = f"{n + 1:08x}00000000"
    out: list[dict[str, Any]] = [
        {**base, "kind": "span-open", "ts": t0, "span": root, "name": "turn"}
    ]
    for i, dur in enumerate(durations_ms):
        sid = f"{n + 1:08x}{i + 1:08x}"
        start = t0 + i * MS
        out.append(
            {
                **base,
                "kind": "span-open",
                "ts": start,
                "span": sid,
                "parent": root,
                "name": "step",
                "attrs": {"gen_ai.request.model": "m-1"},
            }
        )
        out.append(
            {
                **base,
                "kind": "span-close",
                "ts": start + int(dur * MS),
                "span": sid,
                "status": "ok",
                "attrs": {"gen_ai.usage.input_tokens": 10, "orca.cost.usd": 0.01},
            }
        )
    out.append({**base, "kind": "span-close", "ts": t0 + 1000 * MS, "span": root, "status": "ok"})
    return out


def _store(home: Path, slow_ms: float) -> None:
    """30 steps of 2-3 ms in one trace, then a trace whose one step takes ``slow_ms``."""
    t0 = time.time_ns() - 3600 * 10**9
    records = _trace(0, t0, [2 + (i % 10) / 10 for i in range(30)])
    records += _trace(1, t0 + 2000 * MS, [slow_ms])
    with SQLiteStore.open(home) as store:
        store.apply(items_from(records, "s1"))


def _run(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--home", str(home)])


def test_stats_json_equals_python_grouping(home: Path) -> None:
    """The CLI's numbers are the Python reference's numbers."""
    _store(home, 2.5)
    out = _run(home, "stats", "--json")
    assert out.exit_code == 0, out.output
    groups = {g["key"]: g for g in json.loads(out.output)["groups"]}
    with SQLiteStore.open(home) as store:
        expected = {r.key: r for r in stats(store.span_stats(group_by="name"))}
    assert set(groups) == {"step", "turn"}
    step = groups["step"]
    ref = expected["step"]
    assert (step["count"], step["p50_ns"], step["p95_ns"]) == (31, ref.p50_ns, ref.p95_ns)
    assert step["input_tokens"] == 310 and abs(step["cost_usd"] - 0.31) < 1e-9
    by_model = json.loads(_run(home, "stats", "--by", "model", "--json").output)
    assert [(g["key"], g["count"]) for g in by_model["groups"]] == [("m-1", 31)]
    recent = json.loads(_run(home, "stats", "--since", "1m", "--json").output)
    assert recent["groups"] == []


def test_slow_span_baseline_comes_from_the_store(home: Path) -> None:
    """A 200 ms step among 2-3 ms ones fails slow-span; a 3 ms one does not."""
    _store(home, 200)
    out = _run(home, "check", "last", "--only", "slow-span")
    assert out.exit_code == 1, out.output
    assert "×" in out.output and "the p95 of step" in out.output
    fresh = home / "fresh"
    _store(fresh, 3)
    out = _run(fresh, "check", "last", "--only", "slow-span")
    assert out.exit_code == 0, out.output
