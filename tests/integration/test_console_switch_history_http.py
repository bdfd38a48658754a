"""The console's Switchover page shows the switch history (SPEC §11, §14), over HTTP without
a browser: who, when, to, switch time, first call, first login, RPO, newest first; and, before
the first sync, a warning that the BCP tenant is empty."""

from __future__ import annotations

import re

import pytest

from lifeboat.services.bcp.routing import invalidate_routes
from tests.bcp_fixture import build_plan
from tests.integration.test_console_http import console_login
from tests.sync_fixture import API


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False)


def history_rows(html: str) -> list[list[str]]:
    """The cells of the history table's body rows, tags stripped."""
    table = html.split('<table class="switches">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_switchover_page_lists_each_switch_with_its_measured_times(api, plan, platform):
    plan.switch("bcp")
    invalidate_routes(platform)
    answer = api.get(f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers=plan.ops.headers)
    assert answer.status_code == 200 and answer.json()["tenant_id"] == plan.bcp_id
    plan.switch("primary")
    console_login(api, plan.usernames["admin"], plan.primary_id)  # the revert's first login

    page = api.client.get("/bcp/switchover")

    assert page.status_code == 200, page.text
    assert "Switch history" in page.text
    revert, switch = history_rows(page.text)
    assert revert[1] == "primary" and switch[1] == "BCP"
    assert revert[2].startswith("operator:ops") and f"(in tenant {plan.primary_id})" in revert[2]
    assert re.fullmatch(r"[0-9.]+ ms", revert[3]) and re.fullmatch(r"[0-9.]+ ms", switch[3])
    assert re.fullmatch(r"[0-9.]+ s", switch[4]) and revert[4] == "—"  # the call came while BCP was active
    assert re.fullmatch(r"[0-9.]+ s", revert[5]) and switch[5] == "—"  # nobody logged in to BCP
    assert re.fullmatch(r"[0-9.]+ s", switch[6]) and re.fullmatch(r"[0-9.]+ s", revert[6])
    # times in the viewer's zone: a <time> element the console's script shows locally, UTC on hover
    assert re.search(r'<th scope="row"><time datetime="[0-9-]+T[0-9:.+]+', page.text)


def test_the_switchover_page_says_when_there_is_no_switch_yet(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)

    page = api.client.get("/bcp/switchover")

    assert page.status_code == 200 and "No switch yet." in page.text


def test_before_the_first_sync_the_switch_warns_that_the_bcp_tenant_is_empty(api, platform, plan):
    never = build_plan(api, platform, bcp_only=False, synced=False)
    console_login(api, never.usernames["admin"], never.primary_id)
    warned = api.client.get("/bcp/switchover").text
    assert 'id="never-synced"' in warned and "The BCP tenant has never been synced." in warned
    assert 'aria-describedby="never-synced"' in warned  # the switch button is described by it

    console_login(api, plan.usernames["admin"], plan.primary_id)  # synced: no warning
    assert "never-synced" not in api.client.get("/bcp/switchover").text
