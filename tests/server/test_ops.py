"""/, /healthz and /readyz: an index of the API, liveness, and readiness naming what is wrong."""

from pathlib import Path

from fastapi.testclient import TestClient
from tests.server.conftest import fixed_gauges

from orca.orchestrator import Orchestrator
from orca.server import ServerConfig, create_app


def test_index_lists_the_api(client: TestClient) -> None:
    """`/` is a short HTML index naming the read and orchestrator routes."""
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for path in ("/api/v1/traces", "/api/v1/envelopes", "/api/v1/runs/{run_id}/events", "/metrics"):
        assert f"<code>{path}</code>" in r.text


def test_ready_when_ledger_collector_and_store_are(recorded_home: Path) -> None:
    """With an orchestrator, a collector and a store, /readyz is 200 with every check ok."""
    with Orchestrator.open(recorded_home) as orch:
        app = create_app(ServerConfig(recorded_home, gauges=fixed_gauges, orchestrator=orch))
        with TestClient(app) as c:
            r = c.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"ready": True, "checks": {"ledger": "ok", "collector": "ok", "store": "ok"}}


def test_not_ready_names_each_missing_part(home: Path) -> None:
    """No collector and no store yet: 503 not-ready, and the message names both."""
    with Orchestrator.open(home) as orch:
        app = create_app(
            ServerConfig(home, gauges=lambda: fixed_gauges(collector_pid=None), orchestrator=orch)
        )
        with TestClient(app) as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            r = c.get("/readyz")
    assert r.status_code == 503
    err = r.json()["error"]
    assert err["code"] == "not-ready"
    assert "collector: not running" in err["message"] and "store: no store" in err["message"]
    assert r.json()["checks"]["ledger"] == "ok"


def test_closed_orchestrator_is_not_ready(home: Path) -> None:
    """A closed orchestrator makes /readyz say so, and orchestrator routes answer 503."""
    orch = Orchestrator.open(home)
    orch.close()
    with TestClient(create_app(ServerConfig(home, orchestrator=orch))) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "closed" in r.json()["checks"]["ledger"]
        r = c.post("/api/v1/runs", json={"workflow": "w"})
        assert (r.status_code, r.json()["error"]["code"]) == (503, "orchestrator-closed")
