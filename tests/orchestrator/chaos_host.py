"""The process the chaos test kills: hosts an orchestrator and its agents over a workload.

    python chaos_host.py HOME SEED [TASKS_PER_RUN]

Idempotent from any point: it finds the runs it started (by metadata), resubmits
every envelope of the workload (a resend is acknowledged as a duplicate), runs
the agents until nothing is left, ends finished runs and prints ``done``.
Killing it anywhere and starting it again must lose nothing acknowledged.
"""

import random
import sys
import time

from orca.orchestrator import Orchestrator, RetryPolicy, Task, TaskContext

RUNS = 3
TASKS = 40


def main() -> int:
    home, seed = sys.argv[1], int(sys.argv[2])
    tasks = int(sys.argv[3]) if len(sys.argv) > 3 else TASKS
    rng = random.Random(seed)
    retry = RetryPolicy(base_ms=20, cap_ms=200, max_attempts=8)
    with Orchestrator.open(home, retry=retry) as orch:

        @orch.agent("worker", concurrency=4, lease_ms=400)
        def worker(task: Task, ctx: TaskContext) -> dict[str, int]:
            time.sleep(rng.random() * 0.02)
            if rng.random() < 0.1:
                raise RuntimeError("flaky")
            return {"n": task.payload["n"], "attempt": task.attempt}

        by_batch = {(r.metadata or {}).get("batch"): r for r in orch.runs()}
        for b in range(RUNS):
            run = by_batch.get(b) or orch.start_run("chaos", metadata={"batch": b})
            if run.status != "open":
                continue
            for n in range(tasks):
                orch.submit(
                    {
                        "id": f"b{b}-t{n}",
                        "run": run.id,
                        "kind": "agent_task",
                        "sender": "chaos",
                        "recipient": "worker",
                        "payload": {"n": n},
                    }
                )
        orch.run_until_idle(timeout=120)
        for run in orch.runs():
            if run.status == "open" and all(
                t.status in ("completed", "dead_lettered", "expired") for t in orch.tasks(run)
            ):
                orch.end_run(run)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
