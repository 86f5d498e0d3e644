"""SSE: a client that reconnects with Last-Event-ID misses no event and sees none twice."""

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse
from tests.server.live import Up, start_up

import orca
from orca.ledger import read_entries

pytestmark = pytest.mark.slow


@pytest.fixture
def live(home: Path) -> Iterator[Up]:
    """A live `orca up` on a fresh home."""
    server = start_up(home)
    try:
        yield server
    finally:
        server.kill()


def _task(run: str, n: int) -> dict[str, object]:
    return {
        "id": f"e{n}",
        "run": run,
        "kind": "agent_task",
        "sender": "triage",
        "recipient": "billing",
        "payload": {"n": n},
    }


def read_some(http: httpx.Client, path: str, count: int, last: str | None) -> list[tuple[str, str]]:
    """Open the stream (resuming after ``last``), read ``count`` events, drop the connection."""
    headers = {"Last-Event-ID": last} if last else {}
    got: list[tuple[str, str]] = []
    with connect_sse(http, "GET", path, headers=headers, timeout=30) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            got.append((sse.id, sse.event))
            if len(got) == count or sse.event == "end":
                break
    return got


def test_reconnect_with_last_event_id_misses_nothing(
    live: Up, home: Path, request: pytest.FixtureRequest
) -> None:
    """Three connections, each dropped mid-stream, add up to the run's ledger entries exactly."""
    client = orca.Client(live.url)
    request.addfinalizer(client.close)
    run = client.start_run("support")
    for n in range(5):
        client.submit(_task(run.id, n))
    path = f"/api/v1/runs/{run.id}/events"
    seen: list[tuple[str, str]] = []
    with httpx.Client(base_url=live.url) as http:
        seen += read_some(http, path, 3, None)
        # While nobody listens, more happens; then the run ends (its last entries follow).
        for n in range(5, 8):
            client.submit(_task(run.id, n))
        ender = threading.Timer(0.3, lambda: client.end_run(run))
        ender.start()
        seen += read_some(http, path, 4, seen[-1][0])
        seen += read_some(http, path, 1000, seen[-1][0])
        ender.join()
    assert seen[-1][1] == "end"
    events = [(int(i), kind) for i, kind in seen[:-1]]
    assert len({i for i, _ in events}) == len(events), "an event was delivered twice"
    expected = [(e.id, e.kind) for e in read_entries(home).entries if e.run == run.id]
    assert events == expected  # every entry of the run, in order, across three connections
    assert expected[-1][1] == "run.ended"


def test_client_stream_follows_until_the_run_ends(live: Up) -> None:
    """orca.Client.stream_events(follow=True) yields live entries and stops at the run's end."""
    with orca.Client(live.url) as client:
        run = client.start_run("support")
        client.submit(_task(run.id, 1))
        timer = threading.Timer(0.3, lambda: client.end_run(run))
        timer.start()
        kinds = [e.kind for e in client.stream_events(run, follow=True)]
        timer.join()
    assert kinds == ["run.started", "envelope.accepted", "task.cancelled", "run.ended"]


def test_bad_last_event_id_is_422_naming_it(live: Up) -> None:
    """A Last-Event-ID that is not an event id is refused, naming the header."""
    with orca.Client(live.url) as client:
        run = client.start_run("support")
    r = httpx.get(f"{live.url}/api/v1/runs/{run.id}/events", headers={"Last-Event-ID": "yesterday"})
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("Last-Event-ID:")


def test_follow_survives_a_server_restart(home: Path) -> None:
    """A following client outlives `orca up` stopping and starting again on the same port."""
    first = start_up(home)
    port = int(first.url.rsplit(":", 1)[1])
    kinds: list[str] = []
    errors: list[BaseException] = []
    try:
        with orca.Client(first.url) as client:
            run = client.start_run("support")
            client.submit(_task(run.id, 1))

        def follow() -> None:
            try:
                with orca.Client(first.url, reconnect_for=120) as follower:
                    kinds.extend(e.kind for e in follower.stream_events(run, follow=True))
            except BaseException as exc:  # reported by the test below
                errors.append(exc)

        reader = threading.Thread(target=follow)
        reader.start()
        code, out = first.stop()
        assert code == 0, out
        second = start_up(home, port=port)
        try:
            with orca.Client(second.url) as client:
                client.submit(_task(run.id, 2))
                client.end_run(run)
            reader.join(timeout=60)
        finally:
            second.kill()
    finally:
        first.kill()
    assert not errors, errors
    expected = [e.kind for e in read_entries(home).entries if e.run == run.id]
    assert kinds == expected
    assert expected.count("envelope.accepted") == 2 and expected[-1] == "run.ended"
