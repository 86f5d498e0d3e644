"""Provider-capture overhead: instrumented vs bare ``openai`` client, same run, same server.

The fake OpenAI-compatible provider (``orca.testing.FakeProvider``) runs in its
own process on 127.0.0.1, so the server does not share this interpreter's GIL.
Two clients talk to it: a bare ``openai.OpenAI`` (the baseline) and one made
by ``orca.integrations.openai.instrument`` recording into a real journal in a
temporary home. Requests are ~4 KB chat bodies (system prompt, history, two
tool schemas); the clients alternate in small blocks so drift in machine load
hits both alike. Reported: p50 / p90 latency per client and the p50 added
latency in percent (target ≤ 5 %), for plain and streamed responses.

``ORCA_BENCH_REQUESTS`` sets requests per client (default 2000; ``--quick`` 300).
The last line is one JSON object.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import openai

from orca.capture import Recorder
from orca.integrations.openai import instrument

BLOCK = 25
TARGET_PCT = 5.0

_SERVER = """
import sys, time
from orca.testing import FakeProvider, Reply
with FakeProvider(default=Reply("Sure - here is a short answer to that question.")) as fp:
    print(fp.port, flush=True)
    sys.stdin.read()
"""


def _body(target: int = 4096) -> dict[str, Any]:
    tools = [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": f"{name} a file in the workspace",
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
                    "required": ["path"],
                },
            },
        }
        for name in ("read", "write")
    ]
    history = [
        {"role": "user", "content": "Please summarise the report in a.txt. " * 4},
        {"role": "assistant", "content": "The report says the quarter went well. " * 4},
        {"role": "user", "content": "And the risks?"},
    ]
    doc: dict[str, Any] = {"messages": [{"role": "system", "content": ""}, *history]}
    doc["tools"] = tools
    base = len(json.dumps({"model": "gpt-4o", **doc}, separators=(",", ":")))
    doc["messages"][0]["content"] = "You are a careful analyst. " * ((target - base) // 27 + 1)
    return doc


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run(n: int, stream: bool, bare: openai.OpenAI, inst: openai.OpenAI) -> dict[str, Any]:
    doc = _body()
    times: dict[str, list[float]] = {"bare": [], "instrumented": []}
    clients = {"bare": bare, "instrumented": inst}

    def call(client: openai.OpenAI) -> None:
        if stream:
            for _ in client.chat.completions.create(
                model="gpt-4o", messages=doc["messages"], tools=doc["tools"], stream=True
            ):
                pass
        else:
            client.chat.completions.create(
                model="gpt-4o", messages=doc["messages"], tools=doc["tools"]
            )

    for client in clients.values():  # warm up connections, imports, caches
        for _ in range(50):
            call(client)
    order = ["bare", "instrumented"]
    done = 0
    while done < n:
        for name in order:
            client = clients[name]
            for _ in range(BLOCK):
                t0 = time.perf_counter_ns()
                call(client)
                times[name].append((time.perf_counter_ns() - t0) / 1e3)
        order.reverse()
        done += BLOCK
    out: dict[str, Any] = {"requests_per_client": len(times["bare"]), "stream": stream}
    for name, values in times.items():
        out[f"{name}_p50_us"] = round(statistics.median(values), 1)
        out[f"{name}_p90_us"] = round(_percentile(values, 0.9), 1)
    added = out["instrumented_p50_us"] - out["bare_p50_us"]
    out["added_p50_us"] = round(added, 1)
    out["added_p50_pct"] = round(100 * added / out["bare_p50_us"], 2)
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    n = int(os.environ.get("ORCA_BENCH_REQUESTS", "300" if quick else "2000"))
    load_start = os.getloadavg()[0]
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/v1"
        with tempfile.TemporaryDirectory(prefix="orca-bench-") as home:
            rec = Recorder.open(home)
            step = rec.logger("bench").span("step")
            bare = openai.OpenAI(api_key="sk-bench-000000000000000000", base_url=url, max_retries=0)
            inst = instrument(
                openai.OpenAI(api_key="sk-bench-000000000000000000", base_url=url, max_retries=0),
                parent=step,
            )
            size = len(json.dumps({"model": "gpt-4o", **_body()}, separators=(",", ":")))
            print(f"request body ≈ {size} bytes, {n} requests per client, blocks of {BLOCK}")
            results = {}
            for stream in (False, True):
                r = _run(n if not stream else max(n // 2, 100), stream, bare, inst)
                label = "stream" if stream else "plain"
                results[label] = r
                print(
                    f"{label:6}  bare p50 {r['bare_p50_us']:8.1f} µs  p90 {r['bare_p90_us']:8.1f}"
                    f"  | instrumented p50 {r['instrumented_p50_us']:8.1f} µs"
                    f"  p90 {r['instrumented_p90_us']:8.1f}"
                    f"  | added p50 {r['added_p50_us']:7.1f} µs = {r['added_p50_pct']:5.2f} %"
                    f"  (target ≤ {TARGET_PCT:g} %)"
                )
            step.end()
            dropped = rec.dropped
            rec.close()
            journal_bytes = sum(
                p.stat().st_size for p in os.scandir(os.path.join(home, "journal")) if p.is_file()
            )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)
    summary = {
        "bench": "provider",
        "request_bytes": size,
        "plain": results["plain"],
        "stream": results["stream"],
        "target_added_p50_pct": TARGET_PCT,
        "meets_target": results["plain"]["added_p50_pct"] <= TARGET_PCT,
        "journal_bytes": journal_bytes,
        "dropped_records": dropped,
        "loadavg_start": round(load_start, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
