"""Orchestrator throughput and restart time, beside the ledger's raw durable-append rate.

Measured in one run on one disk:

* baseline: ``Ledger.append`` from 1 and 32 threads (every entry fsync'd, group commit);
* envelopes accepted/s with 1 and 32 concurrent submitters (each ack durable);
* end-to-end tasks/s: 32 submitters feed one in-process agent with 32 workers; each task is
  submit → claim → deliver → complete, three durable entries (target ≥ 1,000 tasks/s);
* restart time of a ledger holding N finished tasks: with the snapshot vs a full replay
  (target: snapshot ≤ 0.1× full).

    python bench/orchestrator.py            # N = 100,000 finished tasks
    python bench/orchestrator.py --quick    # shorter phases, N = 10,000

Ends with one line of JSON holding every figure and ratio.
"""

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from orca.ledger import Ledger, ledger_path
from orca.orchestrator import Orchestrator, Task, TaskContext
from orca.orchestrator._snapshot import replay


def ledger_slice(home: Path, threads: int, seconds: float) -> tuple[int, float]:
    """Raw durable appends (count, seconds) with ``threads`` appenders for about ``seconds``."""
    led = Ledger.open(home)
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def work(i: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            led.append({"kind": "task.completed", "actor": f"a{i}", "run": "r", "args": {"n": n}})
            n += 1
        counts[i] = n

    start = time.perf_counter()
    run_threads(threads, work)
    elapsed = time.perf_counter() - start
    led.close()
    return sum(counts), elapsed


def run_threads(n: int, fn: Any) -> None:
    ts = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def submit_slice(home: Path, threads: int, seconds: float, tag: str) -> tuple[int, float]:
    """Envelopes accepted (each ack durable): (count, seconds) with ``threads`` submitters."""
    with Orchestrator.open(home, snapshot_every=0) as orch:
        run = orch.start_run("bench")
        stop = time.perf_counter() + seconds
        counts = [0] * threads

        def work(i: int) -> None:
            n = 0
            while time.perf_counter() < stop:
                orch.submit(envelope(run.id, f"{tag}-s{i}-{n}", "nobody"))
                n += 1
            counts[i] = n

        start = time.perf_counter()
        run_threads(threads, work)
        elapsed = time.perf_counter() - start
        orch.cancel_run(run)
    return sum(counts), elapsed


def interleaved(root: Path, threads: int, seconds: float, rounds: int) -> tuple[float, float]:
    """(raw ledger appends/s, envelopes accepted/s), measured in alternating slices so that
    a shared disk's drift hits both alike."""
    totals = [0, 0.0, 0, 0.0]
    for r in range(rounds):
        n, t = ledger_slice(root / f"ledger{threads}", threads, seconds / rounds)
        totals[0] += n
        totals[1] += t
        n, t = submit_slice(root / f"submit{threads}", threads, seconds / rounds, f"r{r}")
        totals[2] += n
        totals[3] += t
    return totals[0] / totals[1], totals[2] / totals[3]


def envelope(run: str, id: str, recipient: str) -> dict[str, Any]:
    return {
        "id": id,
        "run": run,
        "kind": "agent_task",
        "sender": "bench",
        "recipient": recipient,
        "payload": {"n": id},
    }


def end_to_end(home: Path, tasks: int, submitters: int, workers: int) -> tuple[float, int]:
    """Tasks/s from first submit to last completion, and the ledger entries written."""
    with Orchestrator.open(home, snapshot_every=0) as orch:
        done = threading.Semaphore(0)

        @orch.agent("worker", concurrency=workers)
        def worker(task: Task, ctx: TaskContext) -> dict[str, Any]:
            done.release()
            return {"ok": task.payload["n"]}

        run = orch.start_run("bench")
        before = orch.last_entry.id if orch.last_entry else 0
        server = threading.Thread(target=orch.serve)
        server.start()
        per = tasks // submitters

        def work(i: int) -> None:
            for n in range(per):
                orch.submit(envelope(run.id, f"t{i}-{n}", "worker"))

        start = time.perf_counter()
        run_threads(submitters, work)
        for _ in range(per * submitters):
            done.acquire()
        while orch._state.open_tasks:  # the handlers returned; their completions are landing
            time.sleep(0.002)
        assert all(t.status == "completed" for t in orch.tasks(run))
        elapsed = time.perf_counter() - start
        orch.stop()
        server.join()
        orch.end_run(run)
        written = (orch.last_entry.id if orch.last_entry else 0) - before
    return per * submitters / elapsed, written


def restart(home: Path) -> dict[str, float]:
    """Seconds to reopen: whole ``Orchestrator.open`` with the snapshot and with a full replay,
    and its parts — the ledger's own recovery scan (``Ledger.open``, the same in both) and
    the state rebuild (snapshot + tail vs every entry)."""
    start = time.perf_counter()
    with Orchestrator.open(home) as orch:
        snap = time.perf_counter() - start
        assert orch.from_snapshot, "the bench expected a snapshot"
        view = orch.state_view()
        entries = orch.last_entry.id if orch.last_entry else 0
    start = time.perf_counter()
    full = Orchestrator.open(home, use_snapshot=False)
    full_s = time.perf_counter() - start
    assert full.state_view() == view, "snapshot and full replay disagree"
    full.close(snapshot=False)
    start = time.perf_counter()
    Ledger.open(home).close()
    ledger_s = time.perf_counter() - start
    start = time.perf_counter()
    assert replay(home, ledger_path(home)).from_snapshot
    rebuild_snap = time.perf_counter() - start
    start = time.perf_counter()
    replay(home, ledger_path(home), use_snapshot=False)
    rebuild_full = time.perf_counter() - start
    return {
        "entries": entries,
        "snapshot_s": snap,
        "full_s": full_s,
        "ledger_open_s": ledger_s,
        "rebuild_snapshot_s": rebuild_snap,
        "rebuild_full_s": rebuild_full,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short phases, 10,000 restart tasks")
    ap.add_argument("--tasks", type=int, default=None, help="end-to-end tasks (default 20,000)")
    ap.add_argument("--restart-tasks", type=int, default=None, help="finished tasks to reopen")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: temp dir)")
    args = ap.parse_args()
    seconds = 1.5 if args.quick else 4.0
    e2e_tasks = args.tasks or (4_000 if args.quick else 20_000)
    restart_tasks = args.restart_tasks or (10_000 if args.quick else 100_000)
    out: dict[str, Any] = {"quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="orca-bench-orch-", dir=args.dir) as d:
        root = Path(d)
        for threads in (1, 32):
            base, rate = interleaved(root, threads, seconds, rounds=4)
            out[f"ledger_append_{threads}_per_s"] = round(base)
            out[f"submit_{threads}_per_s"] = round(rate)
            out[f"submit_{threads}_x_ledger"] = round(rate / base, 2)
            print(
                f"{threads:2d} threads: Ledger.append {base:7.0f} entries/s; envelopes accepted "
                f"{rate:7.0f} /s  ({rate / base:.2f}x the raw ledger rate)"
            )
        before = ledger_slice(root / "ledger-e2e", 32, seconds / 2)
        rate, written = end_to_end(root / "e2e", e2e_tasks, 32, 32)
        after = ledger_slice(root / "ledger-e2e", 32, seconds / 2)
        around = (before[0] + after[0]) / (before[1] + after[1])  # the disk right then
        per_task = written / e2e_tasks
        ceiling = around / per_task
        out.update(
            {
                "e2e_tasks": e2e_tasks,
                "e2e_tasks_per_s": round(rate),
                "e2e_ledger_append_32_per_s": round(around),
                "e2e_entries_per_task": round(per_task, 2),
                "e2e_x_ledger_ceiling": round(rate / ceiling, 2),
                "target_e2e_tasks_per_s": 1_000,
                "meets_e2e": rate >= 1_000,
            }
        )
        print(
            f"end to end, 32 submitters + 32 workers: {rate:9.0f} tasks/s  "
            f"({per_task:.1f} entries/task; raw ledger ceiling {ceiling:.0f} tasks/s; target 1000)"
        )
        home = root / "restart"
        fill_start = time.perf_counter()
        end_to_end(home, restart_tasks, 32, 32)
        fill_s = time.perf_counter() - fill_start
        r = restart(home)
        ratio = r["snapshot_s"] / r["full_s"]
        rebuild_ratio = r["rebuild_snapshot_s"] / r["rebuild_full_s"]
        out.update(
            {
                "restart_tasks": restart_tasks,
                "restart_entries": r["entries"],
                "restart_fill_s": round(fill_s, 1),
                "restart_snapshot_s": round(r["snapshot_s"], 3),
                "restart_full_replay_s": round(r["full_s"], 3),
                "restart_snapshot_x_full": round(ratio, 3),
                "restart_ledger_open_s": round(r["ledger_open_s"], 3),
                "rebuild_snapshot_s": round(r["rebuild_snapshot_s"], 3),
                "rebuild_full_replay_s": round(r["rebuild_full_s"], 3),
                "rebuild_snapshot_x_full": round(rebuild_ratio, 3),
                "target_restart_x_full": 0.1,
                "meets_restart": ratio <= 0.1,
                "meets_restart_rebuild": rebuild_ratio <= 0.1,
            }
        )
        print(
            f"restart, {restart_tasks} finished tasks ({r['entries']} entries): "
            f"open with snapshot {r['snapshot_s']:.2f}s vs full replay {r['full_s']:.2f}s "
            f"({ratio:.3f}x; target <= 0.1)\n"
            f"  of which the ledger's recovery scan (Ledger.open, both) {r['ledger_open_s']:.2f}s; "
            f"state rebuild {r['rebuild_snapshot_s']:.2f}s vs {r['rebuild_full_s']:.2f}s "
            f"({rebuild_ratio:.3f}x)"
        )
    print(orjson.dumps(out).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
