"""The routes the pages add to /api/v1: timeline slices, body slices, ledger verify, page shells."""

import json

import pytest
from fastapi.testclient import TestClient

import orca
from orca.collector import Collector
from orca.server import ServerConfig, create_app
from orca.server._ui_api import MAX_SLICE, _cut
from orca.testing import temp_home

PAGES = [
    "/",
    "/traces/last",
    "/spans/abc",
    "/diff?a=1&b=2",
    "/runs",
    "/runs/r1",
    "/ledger",
    "/stats",
]


def test_timeline_slices_add_up_to_the_trace(client: TestClient) -> None:
    """Slices of one row each concatenate to the whole trace, depth-first."""
    whole = client.get("/api/v1/traces/last/timeline").json()
    got = []
    for off in range(whole["total"]):
        part = client.get(f"/api/v1/traces/last/timeline?offset={off}&limit=1").json()
        got += part["rows"]
    assert got == whole["rows"] and whole["total"] == len(got) > 3
    assert whole["rows"][0]["depth"] == 0 and whole["rows"][0]["offset_ns"] == 0
    assert any(r["status"] == "error" for r in whole["rows"])


def test_timeline_of_an_unknown_trace_is_a_404_with_a_code(client: TestClient) -> None:
    """An id that names nothing: the stable error shape, never a 500."""
    r = client.get("/api/v1/traces/ffffffffffffffff/timeline")
    assert r.status_code == 404 and r.json()["error"]["code"]


def test_body_slices_reassemble_the_body(client: TestClient) -> None:
    """Slices of 7 bytes, each starting where the last ended, rebuild the recorded body."""
    step = next(
        r for r in client.get("/api/v1/traces/last/timeline").json()["rows"] if r["name"] == "step"
    )
    head = client.get(f"/api/v1/spans/{step['span']}?max_bytes=100000").json()["bodies"][0]
    text, off = "", 0
    while True:
        s = client.get(f"/api/v1/spans/{step['span']}/body?offset={off}&length=7").json()
        assert s["end"] - s["offset"] <= 7 and s["total"] == head["bytes"]
        text += s["text"]
        if s["end"] >= s["total"]:
            break
        off = s["end"]
    assert text == head["text"] and json.loads(text)["model"] == "m"


def test_a_slice_larger_than_the_limit_is_refused(client: TestClient) -> None:
    """The slice size is bounded in the schema: a 422 naming the field."""
    r = client.get(f"/api/v1/spans/abc/body?length={MAX_SLICE + 1}")
    assert r.status_code == 422 and "length" in r.json()["error"]["message"]


def test_a_missing_body_is_a_404(client: TestClient) -> None:
    """A span without a response body: 404 saying it was never recorded."""
    row = client.get("/api/v1/traces/last/timeline").json()["rows"][-1]
    r = client.get(f"/api/v1/spans/{row['span']}/body?which=response")
    assert r.status_code == 404 and "never recorded" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "end", "want"),
    [(b"ab", 1, 1), ("é".encode() * 3, 3, 2), (b"ab", 5, 2), ("€".encode(), 1, 1)],
)
def test_slices_never_split_a_character(raw: bytes, end: int, want: int) -> None:
    """The cut moves back to the start of a UTF-8 sequence (never to nothing)."""
    assert _cut(raw, end) == want


def test_body_slices_of_multibyte_text_reassemble() -> None:
    """Slices of 5 bytes over text of 2- and 3-byte characters rebuild it exactly."""
    text = "é€a" * 300
    with temp_home() as home:
        rec = orca.Recorder.open(home, heartbeat_s=None)
        span = rec.logger("t").span("turn", body=text.encode())
        span.end()
        rec.close()
        with Collector(home) as c:
            c.drain()
        with TestClient(create_app(ServerConfig(home))) as client:
            got, off = "", 0
            while True:
                part = client.get(f"/api/v1/spans/{span.span_id}/body?offset={off}&length=5")
                doc = part.json()
                assert 0 < doc["end"] - doc["offset"] <= 5 and "\\x" not in doc["text"]
                got += doc["text"]
                if doc["end"] >= doc["total"]:
                    break
                off = doc["end"]
    assert got == text


def test_verify_reports_the_ledger(client: TestClient) -> None:
    """/ledger/verify is `orca verify --json`: ok, three entries."""
    v = client.get("/api/v1/ledger/verify").json()
    assert v["ok"] is True and v["entries"] == 3 and v["empty"] is False


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_a_local_html_shell(client: TestClient, path: str) -> None:
    """Each page is HTML whose script and style are served from /static (no CDN)."""
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "http://" not in r.text.replace("http://www.w3.org", "") and "https://" not in r.text
    for asset in ("/static/orca.css", f"/static/{r.text.split('/static/')[-1].split(chr(34))[0]}"):
        assert client.get(asset).status_code == 200


def test_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    """The schema documents the JSON API only; the pages are outside it."""
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/traces/{trace_id}/timeline" in paths and "/ledger" not in paths


def test_traces_filter_by_component(client: TestClient) -> None:
    """`component` keeps the traces whose root span came from that component."""
    every = client.get("/api/v1/traces").json()["traces"]
    assert every and all(t["component"] == "support" for t in every)
    assert client.get("/api/v1/traces?component=support").json()["traces"] == every
    assert client.get("/api/v1/traces?component=nobody").json()["traces"] == []
