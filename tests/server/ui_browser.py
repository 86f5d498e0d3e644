"""Debian's Chromium driven by Playwright, with every console error and failed request kept.

Browsers cannot be downloaded here, so Playwright is pointed at the system
``chromium`` (found with ``shutil.which``); tests that need it skip, naming
why, where it is absent. A :class:`Watched` page records console errors,
uncaught exceptions, failed requests and 4xx/5xx answers, so a test can
assert a page was clean — the only tolerated failure is an event stream the
browser itself aborts when a test navigates away (that is not the server failing).
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser (closed on exit)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page plus everything that went wrong on it, and every request URL it made."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.problems: list[str] = []
        self.requests: list[str] = []
        p = self.page
        p.on("console", self._console)
        p.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        p.on("requestfailed", self._failed)
        p.on("request", lambda r: self.requests.append(r.url))
        p.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.problems.append(f"console: {msg.text}")

    def _failed(self, req: Any) -> None:
        if req.failure == "net::ERR_ABORTED" and req.url.endswith("/events"):
            return
        self.problems.append(f"failed: {req.url} {req.failure}")

    def _response(self, resp: Any) -> None:
        if resp.status >= 400:
            self.problems.append(f"HTTP {resp.status}: {resp.url}")

    def open(self, path: str, *, loaded: bool = True) -> Any:
        """Go to ``path`` and wait until its script says it has loaded (or shown an error)."""
        self.page.goto(self.base + path)
        if loaded:
            self.page.wait_for_selector("main[data-loaded]", timeout=30_000)
            banner = self.page.locator("#banner")
            if banner.is_visible():
                self.problems.append(f"banner on {path}: {banner.inner_text()}")
        return self.page

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)

    def close(self) -> None:
        self.page.close()
