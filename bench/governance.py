"""Governance cost: a policy decision (50 rules) and a budget reserve+settle beside a bare submit.

Measured in one run, on the same disk:

- ``submit_bare``      ``Orchestrator.submit`` with the default hooks (allow all, no budget):
                       the baseline, a durable ledger append included
- ``submit_governed``  the same with :class:`orca.orchestrator.Governance` as both hooks
                       (a 50-rule policy with PII redaction, a run budget)
- ``decision``         ``PolicyEngine.check`` alone on a 50-rule policy
- ``reserve_settle``   ``BudgetBook.reserve`` then ``settle`` alone

Target (issue 13): policy + budget add at most 10% to the p50 of ``submit``.
Reported both ways: the governed submit against the bare one, and the
decision plus the reservation against the bare submit.

    python bench/governance.py           # default sizes
    python bench/governance.py --quick   # a short run

Ends with one line of JSON.
"""

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from orca.governance import BudgetBook, Policy, PolicyEngine, Spend, parse_policy
from orca.orchestrator import Governance, Orchestrator

PAYLOAD = {"order": "A-17", "amount": 42, "note": "customer asked for a refund", "tool": "search"}


def policy_text(n: int = 50) -> str:
    """n rules over both submit phases: field and payload predicates, a few regexes; none match."""
    lines = ["tool_allowlist: [search, calculator]", "rules:"]
    for i in range(n):
        phase = "pre_submit" if i % 2 == 0 else "post_submit"
        if i % 5 == 0:
            match = f'{{payload: [{{path: $.note, regex: "forbidden-{i}"}}]}}'
        elif i % 5 == 1:
            match = f"{{recipient: agent-{i}, payload: [{{path: $.amount, gt: {1000 + i}}}]}}"
        elif i % 5 == 2:
            match = f"{{sender: {{in: [x-{i}, y-{i}]}}}}"
        elif i % 5 == 3:
            match = f"{{payload: [{{path: $.order, equals: Z-{i}}}]}}"
        else:
            match = f"{{kind: agent_result, payload: [{{path: $.note, contains: zz{i}}}]}}"
        lines.append(
            f"  - {{name: r{i}, priority: {i % 7}, phase: {phase}, action: deny, match: {match}}}"
        )
    return "\n".join(lines) + "\n"


def percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "p50_us": round(statistics.median(s) * 1e6, 2),
        "p99_us": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1e6, 2),
    }


def timed(fn: Callable[[int], None], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def bench_submit(governed: bool, n: int, policy: str) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="orca-bench-gov-") as d:
        home = Path(d)
        gov = None
        if governed:
            (home / "policy.yaml").write_text(policy)
            gov = Governance.open(home, watch=False)
        orch = Orchestrator.open(home, seed=1, policy=gov, budget=gov, snapshot_every=0)
        try:
            run = orch.start_run("bench", budget={"total_tokens": 10**12} if governed else None)

            def one(i: int) -> None:
                orch.submit(
                    {
                        "id": f"e-{i}",
                        "run": run.id,
                        "kind": "agent_task",
                        "sender": "triage",
                        "recipient": "billing",
                        "payload": PAYLOAD,
                        "usage": {"input_tokens": 100, "output_tokens": 20},
                    }
                )

            for i in range(min(50, n)):
                one(n + i)  # warm up
            return timed(one, n)
        finally:
            orch.close(snapshot=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="a short run")
    args = ap.parse_args()
    n_submit = 300 if args.quick else 2000
    n_pure = 5000 if args.quick else 50000
    text = policy_text(50)
    loaded = parse_policy(text.encode())
    engine = PolicyEngine(Policy(loaded.doc, sha256=loaded.sha256))
    book = BudgetBook()
    book.set_budget("r", {"total_tokens": 10**15, "cost_usd": 10**6})

    def decide(_: int) -> None:
        engine.check(
            "pre_submit", kind="agent_task", sender="triage", recipient="billing", payload=PAYLOAD
        )

    def reserve_settle(_: int) -> None:
        res = book.reserve("r", "billing", Spend(100, 20, 0.001))
        book.settle(res, Spend(90, 18, 0.0009))

    load_start = os.getloadavg()
    results: dict[str, object] = {"bench": "governance", "quick": args.quick, "rules": 50}
    # Interleave bare and governed rounds so a busy neighbour hurts both alike.
    bare: list[float] = []
    governed: list[float] = []
    for _ in range(2):
        bare += bench_submit(False, n_submit // 2, text)
        governed += bench_submit(True, n_submit // 2, text)
    results["submit_bare"] = percentiles(bare)
    results["submit_governed"] = percentiles(governed)
    results["decision"] = percentiles(timed(decide, n_pure))
    results["reserve_settle"] = percentiles(timed(reserve_settle, n_pure))
    base = results["submit_bare"]["p50_us"]  # type: ignore[index]
    added_direct = results["submit_governed"]["p50_us"] / base - 1  # type: ignore[index]
    added_parts = (
        results["decision"]["p50_us"] + results["reserve_settle"]["p50_us"]  # type: ignore[index]
    ) / base
    results["added_p50_governed_vs_bare"] = round(added_direct, 4)
    results["added_p50_parts_vs_bare"] = round(added_parts, 4)
    results["target_added_p50"] = 0.10
    results["meets_target"] = added_parts <= 0.10 and added_direct <= 0.10
    results["loadavg"] = [load_start[0], os.getloadavg()[0]]
    for name in ("submit_bare", "submit_governed", "decision", "reserve_settle"):
        r = results[name]
        print(f"{name:16} p50 {r['p50_us']:9.2f} µs   p99 {r['p99_us']:9.2f} µs")  # type: ignore[index]
    print(
        f"added to submit p50: governed vs bare {added_direct:+.1%}; "
        f"decision + reserve/settle = {added_parts:.1%} of a bare submit (target ≤ 10%)"
    )
    print(orjson.dumps(results).decode())


if __name__ == "__main__":
    main()
