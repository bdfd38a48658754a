"""Alerts and regions in a real chromium (SPEC §11): an administrator adds an email
subscription and removes it through the confirmation (no JavaScript dialog), and axe-core finds
nothing serious on /alerts (empty, with a row, the confirmation open, a validation error) nor
on the operators' /regions, in either colour scheme. The subscription added is removed again."""

from __future__ import annotations

import re

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import axe_violations, log_in

TENANT = "Acme Contact Center"
TARGET = "browser-test-oncall@example.com"


def targets(console: ConsoleServer) -> list[str]:
    with console.server.login("operator", PASSWORD) as ops:
        url = f"/api/v1/tenants/{console.primary_id}/alert-subscriptions"
        return [s["target"] for s in ops.get(url).raise_for_status().json()["items"]]


def in_both_themes(page, name: str, problems: dict[str, list[str]]) -> None:
    """Switching the scheme of a loaded page fades its colours (pico's transitions); reduced
    motion makes the switch immediate, so axe reads the colours the reader will see."""
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme, reduced_motion="reduce")
        problems[f"{name} ({theme})"] = axe_violations(page)


def test_an_admin_adds_and_removes_a_subscription_and_axe_finds_nothing_serious(new_page, console_server):
    page = new_page()
    problems: dict[str, list[str]] = {}
    log_in(page, "admin", tenant=TENANT)
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.wait_for_url("**/alerts")
    in_both_themes(page, "/alerts", problems)

    page.get_by_role("button", name="Add subscription").click()  # webhook with no target: refused
    page.get_by_text("a webhook needs an http(s) URL").wait_for()
    in_both_themes(page, "/alerts (validation error)", problems)
    assert TARGET not in targets(console_server)

    page.get_by_role("radio", name="email").check()
    page.get_by_label("Target").fill(TARGET)
    for event in ("sync_held", "region_up"):
        page.get_by_role("checkbox", name=event).uncheck()
    page.get_by_role("button", name="Add subscription").click()
    page.get_by_role("status").filter(has_text="added").wait_for()
    assert TARGET in targets(console_server)
    row = page.get_by_role("row", name=re.compile(re.escape(TARGET)))
    assert "sync_held" not in row.inner_text() and "sync_failed" in row.inner_text()
    try:
        page.goto("/alerts")
        row.get_by_text("Remove").first.click()  # opens the confirmation
        confirm = page.get_by_role("button", name=f"Yes, remove {TARGET}")
        confirm.wait_for()
        in_both_themes(page, "/alerts (confirming a removal)", problems)
        confirm.click()
        page.wait_for_url("**/alerts?removed=*")
        page.get_by_role("status").filter(has_text="removed").wait_for()
        assert page.get_by_role("row", name=re.compile(re.escape(TARGET))).count() == 0
        assert TARGET not in targets(console_server)
    finally:
        if TARGET in targets(console_server):
            _remove_through_the_api(console_server)

    page.get_by_role("button", name="Log out").click()
    log_in(page, "operator")
    page.goto("/regions")
    assert page.get_by_role("row", name=re.compile(r"^na1 up")).count() == 1
    in_both_themes(page, "/regions", problems)
    assert {name: found for name, found in problems.items() if found} == {}


def _remove_through_the_api(console: ConsoleServer) -> None:
    with console.server.login("operator", PASSWORD) as ops:
        url = f"/api/v1/tenants/{console.primary_id}/alert-subscriptions"
        for sub in ops.get(url).raise_for_status().json()["items"]:
            if sub["target"] == TARGET:
                ops.delete(f"{url}/{sub['id']}").raise_for_status()
