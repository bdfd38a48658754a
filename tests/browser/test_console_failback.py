"""Failback in a real chromium (SPEC §11, §14): after a switch to BCP through the API, a new
skill, other hours and a deactivated disposition are made in the BCP tenant; the demo's
administrator opens Failback, ticks two of the three, confirms, and sees one result per
change while the third stays reported. axe-core finds nothing serious in either colour scheme.

The hours and the disposition are made for this test in the primary (and synced), so the
demo's own configuration, which other tests read, is left alone."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import log_in
from tests.browser.test_console_alerts import in_both_themes
from tests.e2e.lifeboat_process import wait_until
from tests.sync_fixture import unique

BCP_TENANT = "Acme Contact Center BCP"
NEW_WEEK = [{"day": "sat", "open": "10:00", "close": "14:00"}]


def entities(console: ConsoleServer, tenant_id: int) -> str:
    return f"/api/v1/tenants/{tenant_id}"


def synced_pair(console: ConsoleServer, ops: Any, name: str) -> dict[str, int]:
    """An hours profile and a disposition made in the primary, synced: their BCP ids."""
    base = entities(console, console.primary_id)
    hours = ops.post(
        f"{base}/hours-of-operation",
        json={"name": f"{name} hours", "weekly": [{"day": "mon", "open": "08:00", "close": "17:00"}]},
    )
    disposition = ops.post(f"{base}/dispositions", json={"name": f"{name} disposition"})
    made = {"hours-of-operation": hours.raise_for_status().json()["id"], "dispositions": disposition.json()["id"]}
    before = console.plan()["last_successful_run_at"]
    ops.post(f"{base}/bcp/sync-runs", json={}).raise_for_status()
    wait_until(lambda: console.plan()["last_successful_run_at"] != before, timeout=180, what="a sync of the new pair")
    bcp_ids = {}
    for type_name, primary_id in made.items():
        found = ops.get(f"{base}/bcp/correlations", params={"type": type_name, "limit": 1000}).json()["items"]
        bcp_ids[type_name] = next(c["bcp_id"] for c in found if c["primary_id"] == primary_id)
    return {**bcp_ids, "primary_hours": made["hours-of-operation"], "primary_disposition": made["dispositions"]}


def outage_changes(console: ConsoleServer, ops: Any, name: str, ids: dict[str, int]) -> int:
    """Made in the BCP tenant while it is active: other hours, a deactivated disposition, a new skill."""
    base = entities(console, console.bcp_id)
    ops.patch(f"{base}/hours-of-operation/{ids['hours-of-operation']}", json={"weekly": NEW_WEEK}).raise_for_status()
    ops.patch(f"{base}/dispositions/{ids['dispositions']}", json={"is_active": False}).raise_for_status()
    skill = ops.post(
        f"{base}/skills",
        json={"name": f"{name} skill", "media_type": "voice", "hours_of_operation_id": ids["hours-of-operation"]},
    )
    return int(skill.raise_for_status().json()["id"])


def test_the_administrator_applies_two_of_three_outage_changes_from_the_console(new_page, console_server):
    name = unique("Failback")
    problems: dict[str, list[str]] = {}
    with console_server.server.login("operator", PASSWORD) as ops:
        ids = synced_pair(console_server, ops, name)
        switched = ops.post(
            f"/api/v1/tenants/{console_server.primary_id}/bcp/switch",
            json={"to": "bcp", "passkey": console_server.passkey},
        )
        assert switched.status_code == 200, switched.text
        skill = outage_changes(console_server, ops, name, ids)

    page = new_page()
    log_in(page, "admin", tenant=BCP_TENANT)  # bcpadmin may not edit acd: its items would fail
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Failback").click()
    page.wait_for_url("**/bcp/failback")
    hours_box = page.get_by_role("checkbox", name=f"Apply: Changed hours of operation {name} hours")
    skill_box = page.get_by_role("checkbox", name=f"Apply: Created skills {name} skill")
    disposition_box = page.get_by_role("checkbox", name=f"Apply: Deactivated dispositions {name} disposition")
    for box in (hours_box, skill_box, disposition_box):
        assert box.count() == 1
    hours_row = page.get_by_role("row").filter(has=hours_box)
    assert "before:" in hours_row.inner_text() and '"sat"' in hours_row.inner_text()
    in_both_themes(page, "/bcp/failback", problems)

    hours_box.check()
    skill_box.check()
    page.get_by_text("Apply selected", exact=True).click()  # opens the confirmation
    confirm = page.get_by_role("button", name="Yes, apply the selected changes")
    confirm.wait_for()
    in_both_themes(page, "/bcp/failback (confirming)", problems)
    confirm.click()

    page.get_by_role("heading", name="Results").wait_for()
    assert page.get_by_role("status").filter(has_text="2 applied, 0 failed.").count() == 1, page.get_by_role(
        "main"
    ).inner_text()[:1500]
    results = page.get_by_role("region", name="Results")
    assert results.get_by_role("row", name=re.compile(f"skills:{skill}")).filter(has_text="applied").count() == 1
    hours_result = results.get_by_role("row", name=re.compile(f"hours-of-operation:{ids['hours-of-operation']}"))
    assert hours_result.filter(has_text="applied").count() == 1
    assert page.get_by_role("checkbox", name=re.compile(re.escape(f"{name} disposition"))).count() == 1
    assert page.get_by_role("checkbox", name=re.compile(re.escape(f"{name} hours"))).count() == 0
    in_both_themes(page, "/bcp/failback (results)", problems)

    with console_server.server.login("operator", PASSWORD) as ops:
        base = entities(console_server, console_server.primary_id)
        assert ops.get(f"{base}/hours-of-operation/{ids['primary_hours']}").json()["weekly"] == NEW_WEEK
        assert ops.get(f"{base}/dispositions/{ids['primary_disposition']}").json()["is_active"] is True
    assert {name: found for name, found in problems.items() if found} == {}
