"""Screenshots of the web console for the README, from a running demo.

    make run                                   # in another terminal: demo on :8000
    .venv/bin/python scripts/console_screenshots.py [--url http://127.0.0.1:8000]

Logs in as the demo's bcpadmin (primary tenant) with Debian's chromium and writes
docs/console-*.png. Nothing is downloaded (never `playwright install`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/lib/chromium/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {"console-overview.png": "/", "console-switchover.png": "/bcp/switchover",
         "console-access.png": "/bcp/access?q=agent&per=10"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", default="lifeboat-demo")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        page = browser.new_page(base_url=args.url, viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin")
        page.goto("/login")
        page.get_by_label("Username").fill("bcpadmin")
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/")
        for name, path in PAGES.items():
            page.goto(path)
            page.screenshot(path=DOCS / name, full_page=True)
            print(f"wrote {DOCS / name}")
        browser.close()


if __name__ == "__main__":
    main()
