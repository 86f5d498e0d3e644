"""The orchestrator routes in process: status codes, the error shape, limits, and /metrics."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from tests.server.conftest import fixed_gauges

from orca.orchestrator import Orchestrator
from orca.server import ServerConfig, create_app


@pytest.fixture
def api(home: Path) -> Iterator[TestClient]:
    """The app with a real orchestrator on a fresh home (body limit 2 KiB)."""
    with Orchestrator.open(home) as orch:
        config = ServerConfig(home, max_body_bytes=2048, gauges=fixed_gauges, orchestrator=orch)
        with TestClient(create_app(config)) as client:
            yield client


def task(run: str, eid: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "run": run,
        "kind": "agent_task",
        "sender": "triage",
        "recipient": "billing",
        "payload": {"order": "A-17"},
        **kw,
    }


def test_status_codes_follow_the_stable_codes(api: TestClient) -> None:
    """201 accepted, 200 duplicate, 409 conflict, 410 expired, 422 protocol, 404 unknown run."""
    run = api.post("/api/v1/runs", json={"workflow": "support"}).json()
    assert api.post("/api/v1/envelopes", json=task(run["id"], "e1")).status_code == 201
    dup = api.post("/api/v1/envelopes", json=task(run["id"], "e1"))
    assert dup.status_code == 200 and dup.json()["duplicate"] is True
    cases = [
        (task(run["id"], "e1", payload=2), 409, "idempotency-conflict"),
        (task(run["id"], "e2", ttl_ms=0), 410, "expired"),
        (task(run["id"], "e3", protocol_version=9), 422, "unsupported-protocol"),
        (task("run-nope", "e4"), 409, "run-not-open"),
        ({"id": "e5"}, 422, "invalid-envelope"),
    ]
    for body, status, code in cases:
        r = api.post("/api/v1/envelopes", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert api.get("/api/v1/runs/run-nope").status_code == 404
    assert api.get(f"/api/v1/runs/{run['id']}/result").json()["error"]["code"] == "run-not-finished"
    assert api.post("/api/v1/tasks/nope/complete", json={}).status_code == 404


def test_malformed_and_oversized_bodies(api: TestClient) -> None:
    """Not JSON → 400 malformed; over the limit (declared or streamed) → 413; never a 500."""
    r = api.post(
        "/api/v1/envelopes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed")
    big = {"workflow": "x" * 10_000}
    r = api.post("/api/v1/runs", json=big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "body-too-large")

    def chunks() -> Iterator[bytes]:
        yield b'{"workflow": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = api.post("/api/v1/runs", content=chunks(), headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "body-too-large")
    r = api.post("/api/v1/runs", json={"workflow": "ok", "color": "red"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("color:")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def test_metrics_project_the_ledger(api: TestClient) -> None:
    """Envelopes by outcome and code, tasks, attempts, tokens by agent, runs, append latency."""
    run = api.post("/api/v1/runs", json={"workflow": "support"}).json()
    api.post("/api/v1/envelopes", json=task(run["id"], "e1"))
    api.post("/api/v1/envelopes", json=task(run["id"], "e2", ttl_ms=0))
    [t] = api.post("/api/v1/agents/billing/claim", json={"lease_ms": 30_000}).json()["tasks"]
    done = api.post(
        f"/api/v1/tasks/{t['id']}/complete",
        json={"result": {"ok": True}, "usage": {"input_tokens": 40, "output_tokens": 2}},
    )
    assert done.status_code == 200, done.text
    assert api.post(f"/api/v1/runs/{run['id']}/end", json={"status": "ok"}).status_code == 200
    m = _samples(api.get("/metrics").text)
    assert m["orca_envelopes_total", (("code", ""), ("outcome", "accepted"))] == 1
    assert m["orca_envelopes_total", (("code", "expired"), ("outcome", "rejected"))] == 1
    assert m["orca_tasks_total", (("outcome", "completed"),)] == 1
    assert m["orca_delivery_attempts_total", (("agent", "billing"),)] == 1
    assert m["orca_agent_tokens_total", (("agent", "billing"), ("direction", "input"))] == 40
    assert m["orca_run_duration_seconds_count", (("status", "ok"), ("workflow", "support"))] == 1
    assert m["orca_ledger_append_seconds_count", (("op", "submit"),)] == 2
    labels = {v for (_, lab) in m for _, v in lab}
    assert run["id"] not in labels and t["id"] not in labels  # no ids as labels


def test_run_views_match_the_cli(api: TestClient, home: Path) -> None:
    """/runs/summary and /runs/{id}/show are `orca runs --json` and `orca runs show --json`."""
    import json

    from click.testing import CliRunner

    from orca.cli import cli

    run = api.post("/api/v1/runs", json={"workflow": "support"}).json()
    api.post("/api/v1/envelopes", json=task(run["id"], "e1"))
    api.post("/api/v1/envelopes", json=task(run["id"], "e2", ttl_ms=0))

    def cli_json(*args: str) -> object:
        out = CliRunner().invoke(cli, [*args, "--home", str(home), "--json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    assert api.get("/api/v1/runs/summary").json() == cli_json("runs")
    shown = api.get(f"/api/v1/runs/{run['id']}/show").json()
    assert shown == cli_json("runs", "show", run["id"])
    assert [r["code"] for r in shown["rejections"]] == ["expired"]
    assert api.get("/api/v1/runs/run-nope/show").json()["error"]["code"] == "run-not-found"


class DenyRefunds:
    """A policy hook: refunds are denied, card numbers redacted, everything else allowed."""

    def check_envelope(self, envelope: Any, run: Any) -> Any:
        from orca.orchestrator import PolicyDecision

        payload = envelope.payload or {}
        if payload.get("action") == "refund":
            return PolicyDecision(allowed=False, rule="no-refunds", reason="refunds need a human")
        if "card" in payload:
            return PolicyDecision(rule="redact", payload_modified=True, payload={"card": "****"})
        return PolicyDecision()


def test_policy_refusal_is_403_and_counted(home: Path) -> None:
    """policy-denied answers 403 naming the reason; /metrics counts deny and modify."""
    with Orchestrator.open(home, policy=DenyRefunds()) as orch:
        with TestClient(create_app(ServerConfig(home, orchestrator=orch))) as api:
            run = api.post("/api/v1/runs", json={"workflow": "support"}).json()
            r = api.post(
                "/api/v1/envelopes", json=task(run["id"], "e1", payload={"action": "refund"})
            )
            assert (r.status_code, r.json()["error"]["code"]) == (403, "policy-denied")
            assert "refunds need a human" in r.json()["error"]["message"]
            api.post("/api/v1/envelopes", json=task(run["id"], "e2", payload={"card": "4111"}))
            m = _samples(api.get("/metrics").text)
    assert m["orca_envelope_policy_decisions_total", (("action", "deny"),)] == 1
    assert m["orca_envelope_policy_decisions_total", (("action", "modify"),)] == 1
    assert m["orca_envelopes_total", (("code", "policy-denied"), ("outcome", "rejected"))] == 1


POLICY = """\
version: 1
rules:
  - name: no-refunds
    phase: pre_submit
    match:
      kind: agent_task
      payload:
        - path: $.action
          equals: refund
    action: deny
    reason: refunds-need-a-human
"""


def test_the_homes_policy_governs_the_served_orchestrator(home: Path) -> None:
    """Governance opened as `orca up` opens it: the home's policy.yaml denies, /metrics counts."""
    from orca.cli._up import _governed

    (home / "policy.yaml").write_text(POLICY)
    with (
        _governed(home) as orch,
        TestClient(create_app(ServerConfig(home, orchestrator=orch))) as api,
    ):
        run = api.post("/api/v1/runs", json={"workflow": "support"}).json()
        r = api.post("/api/v1/envelopes", json=task(run["id"], "e1", payload={"action": "refund"}))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "policy-denied")
        ok = api.post("/api/v1/envelopes", json=task(run["id"], "e2", payload={"action": "ask"}))
        assert ok.status_code == 201, ok.text
        m = _samples(api.get("/metrics").text)
    denies = [v for (name, lab), v in m.items() if name == "orca_policy_decisions_total"]
    assert sum(denies) >= 1
    assert m["orca_envelopes_total", (("code", "policy-denied"), ("outcome", "rejected"))] == 1
