"""Regenerate the README's screenshots (``make screenshots``): the trace and run pages.

Records the support-desk example into a temporary home, serves it with
``orca up`` and photographs the pages in Debian's Chromium — so the pictures
always show what the current code renders, never a hand-edited image.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.server.live import start_up  # noqa: E402
from tests.server.ui_browser import ARGS  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("make screenshots needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "ORCA_HOME": str(home)}
        example = str(ROOT / "examples" / "support_desk.py")
        subprocess.run(
            [sys.executable, "-m", "orca", "run", "--", sys.executable, example],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        up = start_up(home)
        try:
            api = up.url + "/api/v1"
            checks = httpx.get(api + "/checks?only=cache-bust,crashed&limit=50", timeout=60).json()
            found = {c["name"]: c["findings"][0] for c in checks["checks"] if c["findings"]}
            run = httpx.get(api + "/runs/summary", timeout=60).json()["runs"][0]["id"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 760})
                shots = (
                    ("trace.png", f"/traces/{found['cache-bust']['trace_id']}", "#findings button"),
                    ("crashed-trace.png", f"/traces/{found['crashed']['trace_id']}", None),
                    ("run.png", f"/runs/{run}", None),
                )
                for name, path, click in shots:
                    page.goto(up.url + path)
                    page.wait_for_selector("main[data-loaded]")
                    if click:
                        page.locator(click).first.click()
                        page.wait_for_selector("#panel-body h2")
                    page.wait_for_timeout(400)
                    page.screenshot(path=OUT / name)
                    print(f"wrote docs/img/{name}")
                browser.close()
        finally:
            up.stop()


if __name__ == "__main__":
    main()
