"""Browser fixtures: the real ``lifeboat serve`` on a demo install, driven by Debian's chromium.

    console_server   one server for the whole run (session scope): ``lifeboat demo`` into a
                     fresh data dir, then ``lifeboat serve`` on a free 127.0.0.1 port; the
                     first sync has finished before any test starts
    browser          headless chromium (``/usr/lib/chromium/chromium``, never a downloaded one)
    new_page         ``new_page()`` opens a page in a fresh context (its own cookies); every
                     request it makes is checked to stay on 127.0.0.1, and a CSP violation
                     in its console fails the test

Playwright drives the system's chromium; ``playwright install`` is never run. Without
chromium (or the playwright package) these tests skip, except with ``CI=true``: CI installs
chromium (.ci/run), so a missing browser there is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.lifeboat_process import Installation, LifeboatServer, run_lifeboat, wait_until

CHROMIUM = Path("/usr/lib/chromium/chromium")
NOT_FOUND_MESSAGE = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
PASSWORD = "lifeboat-demo"  # the demo's accounts
DEMO_USERS = "30"
NONE_USER = "agent2"  # set to BCP type none by the fixture
LOCAL = "127.0.0.1"


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make venv)"
    return None if CHROMIUM.is_file() else NOT_FOUND_MESSAGE


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
    pytest.skip(reason)


@dataclass
class ConsoleServer:
    server: LifeboatServer
    passkey: str
    primary_id: int
    bcp_id: int
    install: Installation

    @property
    def url(self) -> str:
        return self.server.base_url

    def plan(self) -> dict[str, Any]:
        with self.server.login("operator", PASSWORD) as ops:  # the demo's operator
            return ops.get(f"/api/v1/tenants/{self.primary_id}/bcp").raise_for_status().json()


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    reason = _missing_browser()
    if reason:
        skip_or_fail(reason)
    root = tmp_path_factory.mktemp("console")
    install = Installation.sqlite(root / "data")
    demo = run_lifeboat("demo", "--users", DEMO_USERS, *install.flags())
    assert demo.returncode == 0, demo.stderr
    passkey = re.search(r"BCP passkey:\s+(\S+)", demo.stdout).group(1)
    primary_id, bcp_id = (
        int(re.search(rf"{label} tenant:.*?id (\d+)", demo.stdout).group(1)) for label in ("Primary", "BCP")
    )
    server = LifeboatServer.start(install, log_path=root / "server.log")
    try:
        console = ConsoleServer(server, passkey, primary_id, bcp_id, install)
        first = wait_until(lambda: console.plan()["last_successful_run_at"], timeout=180, what="the demo's first sync")
        # Login decides by the active tenant's record: the BCP copy must have the new type too.
        with server.login("admin", PASSWORD, primary_id) as admin:
            admin.post(
                f"/api/v1/tenants/{primary_id}/users/bcp-types",
                headers={"Content-Type": "text/csv"},
                content=f"username,bcp_type\n{NONE_USER},none\n",
            ).raise_for_status()
            admin.post(f"/api/v1/tenants/{primary_id}/bcp/sync-runs", json={}).raise_for_status()
        wait_until(lambda: console.plan()["last_successful_run_at"] != first, timeout=180, what="a sync of the change")
        yield console
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(console_server: ConsoleServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


@dataclass
class Traffic:
    """What the pages of one test asked for, and what the browser refused."""

    foreign: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(browser: Any, console_server: ConsoleServer) -> Iterator[Callable[..., Any]]:
    traffic = Traffic()
    contexts: list[Any] = []

    def make(timezone_id: str = "America/New_York") -> Any:
        context = browser.new_context(base_url=console_server.url, timezone_id=timezone_id, locale="en-US")
        context.set_default_timeout(30_000)
        context.route("**/*", lambda route: _local_only(route, traffic))
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: _watch_csp(message, traffic))
        return page

    yield make
    for context in contexts:
        context.close()
    assert traffic.foreign == [], "requests left 127.0.0.1"
    assert traffic.csp_violations == [], "the Content-Security-Policy refused something the page uses"


def _local_only(route: Any, traffic: Traffic) -> None:
    url = route.request.url
    if urlsplit(url).hostname != LOCAL and not url.startswith(("data:", "about:")):
        traffic.foreign.append(url)
        route.abort()
        return
    route.continue_()


def _watch_csp(message: Any, traffic: Traffic) -> None:
    if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
        traffic.csp_violations.append(message.text)


@pytest.fixture(autouse=True)
def primary_active_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that switched and failed before reverting must not leave BCP active for the next."""
    yield
    if "console_server" not in request.fixturenames:
        return
    console: ConsoleServer = request.getfixturevalue("console_server")
    if console.plan()["active_side"] != "primary":
        with console.server.login("operator", PASSWORD) as ops:
            ops.post(
                f"/api/v1/tenants/{console.primary_id}/bcp/switch", json={"to": "primary", "passkey": console.passkey}
            ).raise_for_status()
