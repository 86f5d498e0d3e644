"""`orca up`: time to /healthz, idle memory, envelopes/s over HTTP, submit latency at half load.

Baselines, measured in the same run on the same machine:

- start-up: a bare ``python -c`` serving ``/healthz`` with the standard library's
  ``http.server`` (interpreter start + socket: the floor any Python server pays);
- memory: that same bare server's RSS (the interpreter's own footprint);
- throughput: the in-process ``Orchestrator.submit`` rate with the same 32
  concurrent submitters (HTTP adds parsing, routing and a round trip to it).

Targets (issue 14): /healthz answers ≤ 1.5 s after start; ≤ 100 MB RSS idle
(the server process; the collector child is printed beside it). For contrast,
the issue quotes Phoenix on this machine: 9.7 s and 442 MB.

    python bench/server.py            # default durations
    python bench/server.py --quick    # a short run (CI, a busy 2-core box)

Ends with one line of JSON holding every figure and ratio.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from orca._percentile import percentile
from orca.orchestrator import Orchestrator

URL = re.compile(r"at (http://\S+) ")
BARE = (
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *a): pass\n"
    "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
    "print('at http://127.0.0.1:%d ' % s.server_address[1], flush=True)\n"
    "s.serve_forever()\n"
)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(argv: list[str]) -> tuple[subprocess.Popen[str], str, float]:
    """Start a server; return it, its URL and the seconds until /healthz answered 200."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = URL.search(line)
    if m is None:
        proc.kill()
        raise SystemExit(f"no URL from {argv}: {line!r}")
    url = m.group(1)
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.005)
        if time.perf_counter() - t0 > 60:
            proc.kill()
            raise SystemExit("server did not answer within 60 s")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def envelope(run: str, worker: int, n: int) -> dict[str, Any]:
    return {
        "id": f"w{worker}-{n}",
        "run": run,
        "kind": "agent_task",
        "sender": "bench",
        "recipient": "sink",
        "payload": {"n": n},
    }


def hammer(submit: Any, run: str, clients: int, seconds: float) -> float:
    """Envelopes accepted per second with ``clients`` threads calling ``submit(i, n)``."""
    stop_at = time.perf_counter() + seconds
    counts = [0] * clients

    def work(i: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            submit(i, envelope(run, i, n))
            n += 1
        counts[i] = n

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def paced(clients: list[httpx.Client], run: str, rate: float, seconds: float) -> list[float]:
    """Submit latencies (s) with one thread per client, together offering ``rate`` envelopes/s."""
    count = len(clients)
    per_client = rate / count
    lat: list[list[float]] = [[] for _ in range(count)]
    begin = time.perf_counter()

    def work(i: int) -> None:
        t0 = begin + (i / count) / per_client  # spread the clients' phases
        n = 0
        while True:
            due = t0 + n / per_client
            if due - begin > seconds:
                return
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            s = time.perf_counter()
            r = clients[i].post("/api/v1/envelopes", json=envelope(run, 1000 + i, n))
            lat[i].append(time.perf_counter() - s)
            if r.status_code != 201:
                raise SystemExit(f"submit failed: {r.status_code} {r.text}")
            n += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(x for per in lat for x in per)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short durations.")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    starts = 2 if args.quick else 5
    seconds = 2.0 if args.quick else 6.0
    results: dict[str, object] = {"quick": args.quick, "load_avg_1m": os.getloadavg()[0]}
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared: compare the ratios)")

    with tempfile.TemporaryDirectory(prefix="orca-bench-server-") as tmp:
        root = Path(tmp)
        bare_times, bare_rss, up_times = [], [], []
        for _ in range(starts):
            proc, _, took = start([sys.executable, "-c", BARE])
            bare_times.append(took)
            time.sleep(0.3)
            bare_rss.append(rss_mb(proc.pid))
            stop(proc)
        for i in range(starts):
            home = root / f"start{i}"
            proc, url, took = start(
                [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", "0", "--create"]
            )
            up_times.append(took)
            stop(proc)
        bare_t, up_t = statistics.median(bare_times), statistics.median(up_times)
        print(
            f"time to /healthz: orca up {up_t:.2f}s, bare http.server {bare_t:.2f}s "
            f"({up_t / bare_t:.1f}x; target ≤ 1.5 s)"
        )

        home = root / "served"
        proc, url, _ = start(
            [sys.executable, "-m", "orca", "up", "--home", str(home), "--port", "0", "--create"]
        )
        try:
            time.sleep(2.0)  # idle: collector started, nothing to do
            server_rss = rss_mb(proc.pid)
            collector_rss = sum(rss_mb(c) for c in children(proc.pid))
            bare_m = statistics.median(bare_rss)
            print(
                f"idle RSS: server {server_rss:.0f} MB (+ collector child {collector_rss:.0f} MB),"
                f" bare http.server {bare_m:.0f} MB (target ≤ 100 MB)"
            )

            # One keep-alive client per submitter, made before the clock starts (an httpx
            # client builds an SSL context: tens of ms each, which is not the server's time).
            clients = [httpx.Client(base_url=url, timeout=60) for _ in range(args.clients)]
            run = clients[0].post("/api/v1/runs", json={"workflow": "bench"}).json()["id"]
            for c in clients:
                c.get("/healthz")

            def over_http(i: int, env: dict[str, Any]) -> None:
                r = clients[i].post("/api/v1/envelopes", json=env)
                if r.status_code != 201:
                    raise SystemExit(f"submit failed: {r.status_code} {r.text}")

            http_rate = hammer(over_http, run, args.clients, seconds)
            lat = paced(clients, run, http_rate * 0.5, seconds)
            for c in clients:
                c.close()
        finally:
            stop(proc)

        with Orchestrator.open(root / "inproc") as orch:
            run2 = orch.start_run("bench")
            local_rate = hammer(lambda i, env: orch.submit(env), run2.id, args.clients, seconds)
        p50, p99 = percentile(lat, 0.50, 0.0) * 1000, percentile(lat, 0.99, 0.0) * 1000
        print(
            f"envelopes/s, {args.clients} clients: over HTTP {http_rate:8.0f}, in process "
            f"{local_rate:8.0f} ({http_rate / local_rate:.2f}x of in-process)"
        )
        print(
            f"submit latency at 50% of peak ({http_rate * 0.5:.0f}/s offered, {len(lat)} sent): "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
        results.update(
            {
                "healthz_s": round(up_t, 3),
                "bare_healthz_s": round(bare_t, 3),
                "healthz_x_bare": round(up_t / bare_t, 2),
                "idle_rss_mb": round(server_rss, 1),
                "collector_rss_mb": round(collector_rss, 1),
                "bare_rss_mb": round(bare_m, 1),
                "clients": args.clients,
                "http_envelopes_per_s": round(http_rate),
                "inprocess_envelopes_per_s": round(local_rate),
                "http_x_inprocess": round(http_rate / local_rate, 3),
                "half_load_p50_ms": round(p50, 2),
                "half_load_p99_ms": round(p99, 2),
                "meets_healthz": up_t <= 1.5,
                "meets_rss": server_rss <= 100,
            }
        )
    print(orjson.dumps(results).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
