"""/metrics is Prometheus text from prometheus_client: it parses, and promtool accepts it."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from orca.server import HomeGauges, ServerConfig, create_app


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        f.name: [(s.labels, s.value) for s in f.samples]
        for f in text_string_to_metric_families(text)
    }


def test_metrics_parse_and_carry_home_gauges(client: TestClient) -> None:
    """The scrape parses; HTTP counts are by route template; the home's figures are there."""
    client.get("/api/v1/traces")
    client.get("/api/v1/traces/ffff")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    fams = _families(r.text)
    requests = {
        (labels["route"], labels["status"])
        for labels, _ in fams["orca_http_requests"]
        if "route" in labels
    }
    assert ("/api/v1/traces", "200") in requests
    assert ("/api/v1/traces/{trace_id}", "404") in requests  # a template, never the raw id
    assert fams["orca_collector_up"] == [({}, 1.0)]
    assert fams["orca_collector_lag_bytes"] == [({}, 12.0)]
    assert fams["orca_collector_quarantined_lines"] == [({}, 1.0)]
    assert fams["orca_store_bytes"] == [({}, 4096.0)]


def test_no_id_in_any_label(client: TestClient) -> None:
    """Labels stay low-cardinality: no hex id of 16+ digits appears in any label value."""
    for ref in ("ffffffffffffffff", "0123456789abcdef0123"):
        client.get(f"/api/v1/spans/{ref}")
    text = client.get("/metrics").text
    labels = [
        v
        for f in text_string_to_metric_families(text)
        for s in f.samples
        for v in s.labels.values()
    ]
    assert not [v for v in labels if re.search(r"[0-9a-f]{16}", v)]


def test_gauges_failing_is_reported_not_a_500(recorded_home: Path) -> None:
    """A home whose figures cannot be read scrapes as orca_home_scrape_ok 0, not an error."""
    from orca.store import StoreError

    def broken() -> HomeGauges:
        raise StoreError("store locked")

    with TestClient(create_app(ServerConfig(recorded_home, gauges=broken))) as c:
        r = c.get("/metrics")
    assert r.status_code == 200
    assert _families(r.text)["orca_home_scrape_ok"] == [({}, 0.0)]


def test_promtool_accepts_a_real_scrape(client: TestClient) -> None:
    """`promtool check metrics` finds no problem in a real scrape (Debian package prometheus)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package `prometheus`; .ci/apt-packages has it)")
    client.get("/api/v1/traces")
    text = client.get("/metrics").text
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
