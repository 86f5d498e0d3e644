"""The read side answers with exactly the documents the CLI prints with --json."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from orca.cli import cli


def cli_json(home: Path, *args: str, exit_code: int = 0) -> Any:
    result = CliRunner().invoke(cli, [*args, "--home", str(home), "--json"])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.output)


def test_traces_match_cli(client: TestClient, recorded_home: Path) -> None:
    """GET /api/v1/traces is `orca traces --json`."""
    r = client.get("/api/v1/traces")
    assert r.status_code == 200
    assert r.json() == cli_json(recorded_home, "traces")
    assert len(r.json()["traces"]) == 2


def test_skeleton_matches_cli(client: TestClient, recorded_home: Path) -> None:
    """GET /api/v1/traces/{id} is `orca trace ID --json`, for a prefix and for `last`."""
    newest = client.get("/api/v1/traces").json()["traces"][0]["trace_id"]
    expected = cli_json(recorded_home, "trace", newest)
    assert client.get(f"/api/v1/traces/{newest[:24]}").json() == expected
    assert client.get("/api/v1/traces/last").json() == expected
    assert len(expected["lines"]) == 4  # turn, step, tool call, failed step


def _step_ids(client: TestClient) -> list[str]:
    hits = client.get("/api/v1/search", params={"q": "refund", "in": "logs"}).json()["hits"]
    return sorted(h["span_id"] for h in hits)


def test_span_and_diff_match_cli(client: TestClient, recorded_home: Path) -> None:
    """GET /api/v1/spans/{id} and /api/v1/diff are `orca span` and `orca diff` --json."""
    a, b = _step_ids(client)
    doc = client.get(f"/api/v1/spans/{a}", params={"max_bytes": 10}).json()
    assert doc == cli_json(recorded_home, "span", a, "--max-bytes", "10")
    assert doc["bodies"][0]["left_out"] > 0  # bounded: the rest is left out, and said so
    d = client.get("/api/v1/diff", params={"a": a, "b": b}).json()
    assert d == cli_json(recorded_home, "diff", a, b)
    assert d["request_body"]["semantic"]["equal"] is True


def test_checks_stats_search_match_cli(client: TestClient, recorded_home: Path) -> None:
    """checks, stats (and stats/tools) and search are their CLI commands' --json."""
    assert client.get("/api/v1/checks").json() == cli_json(
        recorded_home, "check", "--all", "--limit", "100", exit_code=1
    )
    assert client.get("/api/v1/checks", params={"trace": "last"}).json() == cli_json(
        recorded_home, "check", "last", exit_code=1
    )
    assert client.get("/api/v1/stats", params={"by": "model"}).json() == cli_json(
        recorded_home, "stats", "--by", "model"
    )
    assert client.get("/api/v1/stats/tools").json() == cli_json(recorded_home, "stats", "tools")
    assert client.get("/api/v1/search", params={"q": "refund"}).json() == cli_json(
        recorded_home, "search", "refund"
    )


def test_ledger_routes_match_cli(client: TestClient, recorded_home: Path) -> None:
    """Ledger entries, an inclusion proof and the latest checkpoint, as the CLI prints them."""
    entries = client.get("/api/v1/ledger/entries").json()
    assert entries == cli_json(recorded_home, "ledger", "tail")
    assert [e["run"] for e in client.get("/api/v1/ledger/entries?run=r1").json()] == ["r1"]
    assert [e["id"] for e in client.get("/api/v1/ledger/entries?after=1&limit=1").json()] == [2]
    proof = client.get("/api/v1/ledger/proof/2").json()
    assert proof == cli_json(recorded_home, "ledger", "prove", "2")
    assert proof["verified"] is True
    ckpt = client.get("/api/v1/ledger/checkpoint").json()
    assert ckpt == cli_json(recorded_home, "ledger", "checkpoints")["checkpoints"][-1]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/traces/ffffffff", 404, "unknown-id"),
        ("/api/v1/spans/not-hex", 404, "unknown-id"),
        ("/api/v1/traces?since=yesterday", 422, "invalid"),
        ("/api/v1/traces?limit=0", 422, "invalid"),
        ("/api/v1/checks?only=nope", 422, "invalid"),
        ("/api/v1/ledger/proof/99", 404, "proof-unavailable"),
        ("/api/v1/nowhere", 404, "not-found"),
    ],
)
def test_errors_have_one_shape(client: TestClient, path: str, status: int, code: str) -> None:
    """Bad input gets a stable code and a message saying what to do, never a 500."""
    r = client.get(path)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_validation_names_the_field(client: TestClient) -> None:
    """A 422 names the field that is wrong."""
    msg = client.get("/api/v1/traces?limit=0").json()["error"]["message"]
    assert msg.startswith("limit:")
    assert client.get("/api/v1/checks?only=nope").json()["error"]["message"].startswith("only:")


def test_no_store_yet_is_503(home: Path) -> None:
    """Before any collector ran, reads answer 503 store-unavailable (nothing is created)."""
    from orca.server import ServerConfig, create_app

    with TestClient(create_app(ServerConfig(home))) as c:
        r = c.get("/api/v1/traces")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "store-unavailable"
    assert not (home / "store.sqlite").exists()
