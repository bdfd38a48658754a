"""Configuration in a real chromium (SPEC §11): an administrator creates a disposition (after a
validation error shown by its field), edits it and deletes it through the confirmation (no
JavaScript dialog); axe-core finds nothing serious on a list, a form with an error, view pages
(a script's with its references, a user's with the BCP type) and an edit form, in either colour
scheme. The disposition made is removed again."""

from __future__ import annotations

import re

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import log_in
from tests.browser.test_console_alerts import TENANT, in_both_themes

NAME = "Browser test disposition"
RENAMED = "Browser test disposition (renamed)"


def dispositions(console: ConsoleServer) -> dict[str, int]:
    with console.server.login("operator", PASSWORD) as ops:
        url = f"/api/v1/tenants/{console.primary_id}/dispositions?limit=500"
        return {d["name"]: d["id"] for d in ops.get(url).raise_for_status().json()["items"]}


def test_an_admin_creates_edits_and_deletes_a_disposition_and_axe_finds_nothing_serious(new_page, console_server):
    page = new_page()
    problems: dict[str, list[str]] = {}
    log_in(page, "admin", tenant=TENANT)
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Configuration").click()
    page.wait_for_url("**/config")
    in_both_themes(page, "/config", problems)
    page.get_by_role("link", name="Dispositions").click()
    page.wait_for_url("**/config/dispositions")
    in_both_themes(page, "/config/dispositions", problems)
    try:
        page.get_by_role("button", name="New disposition").click()
        page.get_by_role("button", name="Save").click()  # no name: refused by the API's check
        name = page.get_by_label("Name")
        page.get_by_text("Name must be 1 to 200 characters").wait_for()
        assert name.get_attribute("aria-invalid") == "true"
        in_both_themes(page, "/config/dispositions/new (validation error)", problems)
        assert NAME not in dispositions(console_server)

        name.fill(NAME)
        page.get_by_label("Classification").fill("positive")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/config/dispositions/*?done=saved")
        page.get_by_role("status").filter(has_text="Saved").wait_for()
        assert page.get_by_role("heading", level=1).inner_text().startswith(NAME)
        in_both_themes(page, "/config/dispositions/<id>", problems)

        page.get_by_role("button", name=f"Edit {NAME}").click()
        page.get_by_label("Name").fill(RENAMED)
        in_both_themes(page, "/config/dispositions/<id>/edit", problems)
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/config/dispositions/*?done=saved")
        assert RENAMED in dispositions(console_server) and NAME not in dispositions(console_server)

        page.locator("summary", has_text="Delete").click()  # opens the confirmation
        confirm = page.get_by_role("button", name=f"Yes, delete {RENAMED}")
        confirm.wait_for()
        in_both_themes(page, "/config/dispositions/<id> (confirming a delete)", problems)
        confirm.click()
        page.wait_for_url("**/config/dispositions?deleted=*")
        page.get_by_role("status").filter(has_text=f"Deleted {RENAMED}").wait_for()
        assert RENAMED not in dispositions(console_server)
    finally:
        _remove_through_the_api(console_server)

    page.goto("/config/scripts")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("heading", name="References in this script").wait_for()
    in_both_themes(page, "/config/scripts/<id>", problems)
    page.goto("/config/users?q=agent1")
    page.get_by_role("link", name=re.compile(r"^agent1$")).click()
    page.get_by_role("heading", name=re.compile(r"^BCP type: ")).wait_for()
    in_both_themes(page, "/config/users/<id>", problems)
    page.get_by_role("button", name="Edit agent1").click()
    assert page.get_by_label("BCP type").evaluate("e => e.tagName") == "SELECT"
    in_both_themes(page, "/config/users/<id>/edit", problems)
    assert {name: found for name, found in problems.items() if found} == {}


def _remove_through_the_api(console: ConsoleServer) -> None:
    with console.server.login("operator", PASSWORD) as ops:
        for name, entity_id in dispositions(console).items():
            if name in (NAME, RENAMED):
                ops.delete(f"/api/v1/tenants/{console.primary_id}/dispositions/{entity_id}").raise_for_status()
