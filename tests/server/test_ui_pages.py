"""The web UI in a real browser (Debian's Chromium) against a live `orca up`.

The home holds the support-desk example (a crashed writer, an orphan tool
call, a cache bust, a redelivered task) plus one 10,000-span trace with a
300 KB body; a second server serves an empty home. Every test fails on any
console error or failed request; screenshots land in pytest's tmp dir.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from tests.server.live import Up, start_up
from tests.server.ui_browser import Watched, chromium, needs_chromium

from orca.testing import record_big_trace

pytestmark = [needs_chromium, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/", "/runs", "/ledger", "/stats", "/diff"]


def orca(*args: str, home: Path) -> None:
    env = {**os.environ, "ORCA_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "orca", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """`orca up` over the support-desk example plus a 10,000-span trace."""
    home = tmp_path_factory.mktemp("ui") / "home"
    orca("run", "--", sys.executable, str(ROOT / "examples" / "support_desk.py"), home=home)
    record_big_trace(home, 10_000, body_bytes=300_000)
    orca("collect", "--once", home=home)
    up = start_up(home)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """`orca up` over a home with nothing recorded."""
    up = start_up(tmp_path_factory.mktemp("ui-empty") / "home", "--create")
    deadline = time.monotonic() + 30
    while httpx.get(up.url + "/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def api(up: Up, path: str) -> Any:
    r = httpx.get(up.url + "/api/v1" + path, timeout=30)
    r.raise_for_status()
    return r.json()


def finding(up: Up, check: str) -> dict[str, Any]:
    doc = api(up, f"/checks?only={check}&limit=50")
    return next(f for c in doc["checks"] for f in c["findings"])


@pytest.fixture
def watched(browser: Any, desk: Up) -> Iterator[Watched]:
    w = Watched(browser, desk.url)
    yield w
    w.close()


def test_crashed_trace_shows_the_finding_and_its_proving_span(
    watched: Watched, tmp_path: Path
) -> None:
    """The crashed trace: `crashed` on top, its span highlighted, Open shows the crash span."""
    f = finding(watched_up(watched), "crashed")
    page = watched.open(f"/traces/{f['trace_id']}")
    item = page.locator('li[data-check="crashed"]')
    item.wait_for()
    assert "exited unexpectedly" in item.inner_text()
    assert page.locator(f'.row.hl[data-span="{f["span_ids"][0]}"]').count() == 1
    item.locator("button").first.click()
    page.locator("#panel-body h2").wait_for()
    assert "crashed" in page.locator("#panel-body h2").inner_text()
    assert f["span_ids"][0] in page.locator("#panel-body").inner_text()
    page.screenshot(path=tmp_path / "crashed-trace.png")
    watched.assert_clean()


def watched_up(w: Watched) -> Up:
    return _UPS[w.base]


_UPS: dict[str, Up] = {}


@pytest.fixture(autouse=True)
def _register(desk: Up) -> None:
    _UPS[desk.url] = desk


def test_orphan_tool_call_finding_opens_the_provider_request(
    watched: Watched, tmp_path: Path
) -> None:
    """`orphan-tool-call` is listed and opens the provider.request that asked for the call."""
    f = finding(watched_up(watched), "orphan-tool-call")
    page = watched.open(f"/traces/{f['trace_id']}")
    item = page.locator('li[data-check="orphan-tool-call"]')
    item.wait_for()
    item.locator("button").first.click()
    page.locator("#panel-body h2").wait_for()
    assert "provider.request" in page.locator("#panel-body h2").inner_text()
    page.screenshot(path=tmp_path / "orphan-trace.png")
    watched.assert_clean()


def test_cache_bust_diff_says_the_views_disagree(watched: Watched, tmp_path: Path) -> None:
    """From the cache-bust finding to the diff: bytes differ, JSON equal, both shown."""
    f = finding(watched_up(watched), "cache-bust")
    page = watched.open(f"/traces/{f['trace_id']}")
    page.locator('li[data-check="cache-bust"] a.difflink').click()
    page.wait_for_selector("main[data-loaded]")
    verdict = page.locator("#verdict").inner_text()
    assert "disagree" in verdict and "semantically equal" in verdict
    assert page.locator("#bytes mark").count() == 2
    assert "key order changed" in page.locator("#semantic").inner_text()
    page.screenshot(path=tmp_path / "diff.png", full_page=True)
    watched.assert_clean()


def test_run_page_shows_the_redelivered_task_live(watched: Watched, tmp_path: Path) -> None:
    """Runs → the run: the billing task was redelivered after its lease expired; events streamed."""
    page = watched.open("/runs")
    page.locator("#runs tbody a").first.click()
    page.wait_for_selector("main[data-loaded]")
    page.wait_for_function("document.getElementById('live').textContent.includes('run ended')")
    row = page.locator("tr.redelivered")
    assert row.count() == 1 and "redelivered" in row.inner_text()
    assert "lease_expired" in row.inner_text()
    assert "expired" in page.locator("#dead").inner_text()
    assert page.locator("#events li").count() >= 10
    page.screenshot(path=tmp_path / "run.png", full_page=True)
    watched.assert_clean()


def test_ledger_proof_is_verified_in_the_page(watched: Watched) -> None:
    """Prove an entry: the audit path is walked with WebCrypto up to the checkpoint root."""
    page = watched.open("/ledger")
    assert "chain intact" in page.locator("#verify").inner_text()
    assert "signed checkpoint" in page.locator("#checkpoint").inner_text()
    page.locator("#entries tbody button").nth(2).click()
    page.wait_for_selector("[data-proof]")
    assert page.locator("[data-proof]").get_attribute("data-proof") == "verified"
    watched.assert_clean()


def test_stats_charts_give_numbers_on_hover(watched: Watched) -> None:
    """Charts are SVG bars; hovering one shows its exact value."""
    page = watched.open("/stats")
    bars = page.locator(".chart rect.b")
    assert bars.count() > 10
    bars.first.hover()
    assert page.locator(".tip").is_visible() and ":" in page.locator(".tip").inner_text()
    watched.assert_clean()


def test_big_trace_paints_a_window_and_scrolls_to_the_end(watched: Watched, tmp_path: Path) -> None:
    """10,000 spans: only a window of rows is in the DOM; the last span is reachable; folds open."""
    big = next(
        t
        for t in api(watched_up(watched), "/traces?limit=50")["traces"]
        if t["span_count"] >= 10_000
    )
    page = watched.open(f"/traces/{big['trace_id']}")
    assert page.locator(".row").count() < 200
    fold = page.locator(".row.fold").first
    hidden = int(fold.inner_text().split("…")[1].split()[0])
    before = page.evaluate("document.querySelector('.tl-spacer').offsetHeight")
    fold.click()
    after = page.evaluate("document.querySelector('.tl-spacer').offsetHeight")
    assert after - before == (hidden - 1) * 22
    page.evaluate("document.getElementById('timeline').scrollTop = 1e9")
    page.wait_for_timeout(100)
    assert page.locator(".row").count() < 200 and page.locator(".row.fold").count() >= 1
    page.screenshot(path=tmp_path / "big-trace.png")
    watched.assert_clean()


def test_bodies_are_fetched_in_bounded_slices(watched: Watched) -> None:
    """A 300 KB body: the panel asks for 16 KiB, then 64 KiB per "load more" — never the whole."""
    big = next(
        t
        for t in api(watched_up(watched), "/traces?limit=50")["traces"]
        if t["span_count"] >= 10_000
    )
    rows = api(watched_up(watched), f"/traces/{big['trace_id']}/timeline?limit=2")["rows"]
    page = watched.open(f"/spans/{rows[1]['span']}")
    info = page.locator('.body[data-body="request"] .bar-line span').first
    assert info.inner_text().startswith("16,384 of")
    page.locator('.body[data-body="request"] button.more').click()
    page.wait_for_function(
        "document.querySelector('.body[data-body=request] .bar-line span')"
        ".textContent.startsWith('81,920')"
    )
    for url in watched.requests:
        q = parse_qs(urlparse(url).query)
        if "/api/v1/spans/" in url:
            assert (
                int(q.get("max_bytes", ["0"])[0]) <= 16_384
                and int(q.get("length", ["0"])[0]) <= 65_536
            )
            assert "max_bytes" in q or "length" in q, url
    watched.assert_clean()


def test_keyboard_moves_opens_and_closes(watched: Watched) -> None:
    """`/` focuses search; on a trace j/k move the selection, Enter opens the span, Esc closes."""
    page = watched.open("/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("#traces tbody tr.sel").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url("**/traces/*")
    page.wait_for_selector("main[data-loaded]")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    sel = page.locator(".row.sel")
    assert sel.count() == 1 and sel.get_attribute("data-span") is not None
    span = sel.get_attribute("data-span")
    page.keyboard.press("Enter")
    page.locator("#panel-body h2").wait_for()
    assert span in page.locator("#panel-body").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#panel").is_hidden()
    watched.assert_clean()


def test_new_traces_appear_without_a_reload(watched: Watched) -> None:
    """The traces page follows /api/v1/traces/events: a trace recorded now shows up by itself."""
    page = watched.open("/")
    n = page.locator("#traces tbody tr").count()
    code = (
        "import orca,sys; r=orca.Recorder.open(sys.argv[1], heartbeat_s=None); "
        "r.logger('late').span('turn').end(); r.close()"
    )
    home = watched_up(watched).first_lines[0].split("serving ")[1].split(" at ")[0]
    subprocess.run([sys.executable, "-c", code, home], check=True, timeout=60)
    page.wait_for_function(
        f"document.querySelectorAll('#traces tbody tr').length > {n}", timeout=30_000
    )
    watched.assert_clean()


@pytest.mark.parametrize("path", [*PAGES, "/diff?a=x&b=y"])
def test_every_page_renders_with_an_empty_store(browser: Any, empty: Up, path: str) -> None:
    """Nothing recorded yet: each page loads, says so, and makes no failing request."""
    w = Watched(browser, empty.url)
    try:
        page = w.open(path, loaded=path != "/diff?a=x&b=y")
        if path.startswith("/diff?a="):
            page.wait_for_selector("#banner:not([hidden])")
            assert "x" in page.locator("#banner").inner_text()
            w.problems = [p for p in w.problems if "/api/v1/diff" not in p and "404" not in p]
        w.assert_clean()
    finally:
        w.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_the_crashed_writer_and_big_trace(
    watched: Watched, path: str
) -> None:
    """The recorded home (crashed writer, 10,000-span trace): each page loads cleanly."""
    watched.open(path)
    watched.assert_clean()
