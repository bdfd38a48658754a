"""The Drill page in a real chromium (SPEC §11, §14): an administrator is refused a drill with
no test number (the API's message next to the form), then picks a voice number and searches a
pilot among the demo's users, starts a drill, watches a routed call appear in its counters
without reloading (htmx), ends it through the confirmation (no JavaScript dialog) and finds it
among the past drills. axe-core finds nothing serious on the page in either colour scheme.

A drill this test leaves running (it failed half-way) is ended, so the other tests' plan is as
they expect it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from lifeboat.demo.profile import phone_number
from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import log_in
from tests.browser.test_console_alerts import in_both_themes

TENANT = "Acme Contact Center"
NUMBER = phone_number(0)  # the demo's first voice line
PILOT = "agent1"


def drills(console: ConsoleServer) -> list[dict]:
    with console.server.login("operator", PASSWORD) as ops:
        return ops.get(f"/api/v1/tenants/{console.primary_id}/bcp/drills").raise_for_status().json()["items"]


def route_a_call(console: ConsoleServer, number: str) -> dict:
    with console.server.login("operator", PASSWORD) as ops:
        return ops.get("/api/v1/voice/route", params={"number": number}).raise_for_status().json()


@pytest.fixture
def no_drill_left_running(console_server: ConsoleServer) -> Iterator[None]:
    yield
    with console_server.server.login("operator", PASSWORD) as ops:
        for drill in drills(console_server):
            if drill["status"] == "running":
                ops.post(f"/api/v1/tenants/{console_server.primary_id}/bcp/drills/{drill['id']}/end")


def test_an_admin_runs_a_drill_from_the_console_and_axe_finds_nothing_serious(
    new_page, console_server, no_drill_left_running
):
    page = new_page()
    problems: dict[str, list[str]] = {}
    before = len(drills(console_server))
    log_in(page, "bcpadmin", tenant=TENANT)
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Drills").click()
    page.wait_for_url("**/bcp/drills")
    in_both_themes(page, "/bcp/drills", problems)

    page.get_by_label("Passkey").fill(console_server.passkey)
    page.get_by_role("button", name="Start drill").click()  # no test number: refused, nothing started
    assert "must be 1 to 100 E.164 numbers" in page.get_by_role("alert").inner_text()
    page.locator(".field-error").filter(has_text="E.164").wait_for()
    assert console_server.passkey not in page.content()
    in_both_themes(page, "/bcp/drills (refused)", problems)
    assert len(drills(console_server)) == before

    page.get_by_role("checkbox", name=re.compile(re.escape(NUMBER))).check()
    page.get_by_label("Search users").fill(PILOT)
    page.get_by_role("button", name="Find users").click()  # the form comes back narrowed, the number still ticked
    assert page.get_by_role("checkbox", name=re.compile(re.escape(NUMBER))).is_checked()
    page.get_by_role("checkbox", name=PILOT, exact=True).check()
    page.get_by_label("Time limit (minutes)").fill("15")
    page.get_by_label("Passkey").fill(console_server.passkey)
    page.get_by_role("button", name="Start drill").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Drill \d+ running"))
    heading.wait_for()
    drill = drills(console_server)[0]
    assert (drill["status"], drill["numbers"], drill["users"]) == ("running", [NUMBER], [PILOT])
    assert page.get_by_role("status").filter(has_text="A drill is running").count() == 1  # the banner
    in_both_themes(page, "/bcp/drills (running)", problems)

    assert route_a_call(console_server, NUMBER)["tenant_kind"] == "bcp"  # the test number goes to BCP
    page.locator('[data-counter="calls"]').filter(has_text=re.compile(r"^1$")).wait_for(timeout=15_000)  # htmx

    page.get_by_text("End drill", exact=True).click()  # opens the confirmation
    confirm = page.get_by_role("button", name=f"Yes, end drill {drill['id']}")
    confirm.wait_for()
    in_both_themes(page, "/bcp/drills (confirming the end)", problems)
    confirm.click()
    page.get_by_role("status").filter(has_text=f"Drill {drill['id']} ended").wait_for()
    past = page.get_by_role("region", name="Past drills").get_by_role("row").filter(has_text=NUMBER).first
    assert "bcpadmin" in past.inner_text() and PILOT in past.inner_text()
    assert page.get_by_role("button", name="Start drill").count() == 1
    in_both_themes(page, "/bcp/drills (past drills)", problems)
    assert drills(console_server)[0]["status"] == "ended"
    assert route_a_call(console_server, NUMBER)["tenant_kind"] == "primary"
    assert {name: found for name, found in problems.items() if found} == {}
