"""CLI bench: how long the ``orca`` command takes to start, cold, against a bare Python start.

A person (or a debugging agent) types ``orca trace last`` dozens of times an
hour; the time before the first byte is mostly imports. Measured in the same
run, each as the median of N fresh processes:

* ``python -c pass`` (the baseline: what any Python command costs);
* ``orca --help`` (target ≤ 150 ms over the baseline);
* ``orca trace last`` on a small store (a few traces; target ≤ 300 ms over it);
* ``orca trace last --json`` and ``orca stats --json`` (reported, no target).

Byte code is cached (under the temp dir; the first, uncounted run of each
command writes it), as an installed package has it.

``--quick`` takes 5 runs of each instead of 15. Ends with one line of JSON.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orca.capture import Recorder
from orca.collector import Collector

HELP_TARGET_MS = 150.0
TRACE_TARGET_MS = 300.0


def _orca() -> list[str]:
    """The console script beside this interpreter (what a user runs), else ``python -m orca``."""
    script = Path(sys.executable).with_name("orca")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orca"]


def _record(home: Path, traces: int = 5) -> None:
    """A few small traces, ingested: the store ``orca trace last`` reads."""
    rec = Recorder.open(home)
    log = rec.logger("bench")
    for t in range(traces):
        with log.span("turn", attrs={"gen_ai.conversation.id": f"c{t}"}) as turn:
            for i in range(8):
                with turn.child("step", attrs={"gen_ai.request.model": "m"}) as step:
                    step.child("tool-call", attrs={"gen_ai.tool.name": f"tool{i}"}).end()
    rec.close()
    with Collector(home) as collector:
        collector.drain()


def _median_ms(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of ``runs`` fresh processes (one warm-up first, not counted)."""
    times: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    runs = 5 if "--quick" in sys.argv else 15
    orca = _orca()
    with tempfile.TemporaryDirectory(prefix="orca-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        _record(home)
        # Byte-code cached (in the temp dir), as an installed package has it: without a
        # cache every run compiles every module it imports, which is not what users see.
        env = {**os.environ, "ORCA_HOME": str(home), "PYTHONPYCACHEPREFIX": f"{tmp}/pycache"}
        env.pop("ORCA_STORE", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        commands = {
            "bare": [sys.executable, "-c", "pass"],
            "help": [*orca, "--help"],
            "trace_last": [*orca, "trace", "last"],
            "trace_last_json": [*orca, "trace", "last", "--json"],
            "stats_json": [*orca, "stats", "--json"],
        }
        ms = {name: _median_ms(argv, runs, env) for name, argv in commands.items()}
    over = {name: ms[name] - ms["bare"] for name in commands if name != "bare"}
    load = os.getloadavg()[0]
    print(f"orca CLI cold start, median of {runs} runs (load average {load:.2f})")
    print(f"  python -c pass: {ms['bare']:.0f} ms (baseline)")
    for name, target in (
        ("help", HELP_TARGET_MS),
        ("trace_last", TRACE_TARGET_MS),
        ("trace_last_json", None),
        ("stats_json", None),
    ):
        goal = f" (target ≤ {target:.0f} ms over)" if target else ""
        print(
            f"  {' '.join(commands[name][len(orca) :])}: {ms[name]:.0f} ms,"
            f" {over[name]:+.0f} ms over baseline{goal}"
        )
    meets = over["help"] <= HELP_TARGET_MS and over["trace_last"] <= TRACE_TARGET_MS
    print(
        json.dumps(
            {
                "bench": "cli",
                "runs": runs,
                "load_avg": round(load, 2),
                "bare_ms": round(ms["bare"], 1),
                **{f"{name}_ms": round(ms[name], 1) for name in over},
                **{f"{name}_over_ms": round(over[name], 1) for name in over},
                "meets_target": meets,
            }
        )
    )


if __name__ == "__main__":
    main()
