"""Tenants in a real chromium (SPEC §4, §11): the operator creates tenants (a validation error
first), validates a pairing whose problem is shown, pairs with another tenant and sees the
passkey once (it switches the new plan), and regenerates it through the confirmation (no
JavaScript dialog). axe-core finds nothing serious on these pages in either colour scheme.

The tenants made here are new ones: the demo's plan and its passkey, which other tests use,
are left alone."""

from __future__ import annotations

import re

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import log_in
from tests.browser.test_console_alerts import in_both_themes
from tests.sync_fixture import unique

PASSKEY = re.compile(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}")


def create(page, name: str, region: str) -> int:
    page.goto("/tenants")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Region").select_option(region)
    page.get_by_role("button", name="Create tenant").click()
    page.wait_for_url(re.compile(r"/tenants/\d+\?created=1$"))
    page.get_by_role("heading", name=name, level=1).wait_for()
    return int(re.search(r"/tenants/(\d+)", page.url).group(1))


def switches(console: ConsoleServer, tenant_id: int, passkey: str) -> int:
    with console.server.login("operator", PASSWORD) as ops:
        url = f"/api/v1/tenants/{tenant_id}/bcp/switch"
        return ops.post(url, json={"to": "bcp", "passkey": passkey}).status_code


def test_an_operator_creates_tenants_pairs_them_after_a_problem_and_sees_the_passkey_once(new_page, console_server):
    page = new_page()
    problems: dict[str, list[str]] = {}
    log_in(page, "operator")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenants").click()
    page.wait_for_url("**/tenants")
    assert page.get_by_role("row", name=re.compile("Acme Contact Center")).count() >= 1
    in_both_themes(page, "/tenants", problems)

    page.get_by_role("button", name="Create tenant").click()  # no name, no region: refused
    page.get_by_text("must be 1 to 200 characters").wait_for()
    assert page.get_by_text("must be one of").count() == 1
    in_both_themes(page, "/tenants (validation errors)", problems)

    name = unique("Browser")
    primary = create(page, f"{name} primary", "na1")
    neighbour = create(page, f"{name} neighbour", "na1")
    bcp = create(page, f"{name} BCP", "eu1")
    page.goto(f"/tenants/{primary}")
    in_both_themes(page, "/tenants/<id>", problems)

    page.get_by_label("BCP tenant", exact=True).select_option(str(neighbour))
    page.get_by_role("button", name="Validate").click()
    page.get_by_role("alert").filter(has_text="same_region").wait_for()
    in_both_themes(page, "/tenants/<id> (pairing problems)", problems)

    page.get_by_label("BCP tenant", exact=True).select_option(str(bcp))
    page.get_by_role("button", name="Pair", exact=True).click()
    page.get_by_role("heading", name="Paired: the plan's passkey").wait_for()
    passkey = page.get_by_role("textbox", name="Passkey", exact=True).input_value()
    assert PASSKEY.fullmatch(passkey) and passkey not in page.url
    assert page.get_by_role("alert").filter(has_text="shown only this once").count() == 1
    in_both_themes(page, "/tenants/<id> (passkey shown)", problems)

    page.goto(f"/tenants/{primary}")
    assert passkey not in page.content() and page.get_by_role("textbox", name="Passkey", exact=True).count() == 0
    assert page.get_by_role("link", name=f"{name} BCP").count() == 1

    page.get_by_text("Regenerate the passkey", exact=True).click()  # opens the confirmation
    confirm = page.get_by_role("button", name="Yes, regenerate the passkey")
    confirm.wait_for()
    in_both_themes(page, "/tenants/<id> (confirming a regeneration)", problems)
    confirm.click()
    page.get_by_role("heading", name="New passkey").wait_for()
    renewed = page.get_by_role("textbox", name="Passkey", exact=True).input_value()
    assert PASSKEY.fullmatch(renewed) and renewed != passkey
    assert switches(console_server, primary, passkey) == 403
    assert switches(console_server, primary, renewed) == 200
    assert {name: found for name, found in problems.items() if found} == {}
