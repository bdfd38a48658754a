"""The console's Tenants page over HTTP (SQLite and PostgreSQL): an operator creates tenants (the
service's messages next to the fields), validates a pairing (its problems listed), pairs (the
passkey shown once, on a no-store page, and it switches), regenerates the passkey behind a
confirmation (the old one stops working; sending the same form again changes nothing); CSRF
refusals and tenant users change nothing; unknown tenants are 404 pages."""

from __future__ import annotations

import html
import re

import pytest

from tests.bcp_fixture import build_plan
from tests.conftest import OPERATOR
from tests.integration.test_console_http import console_login, csrf_of, forged
from tests.sync_fixture import API, Http, new_tenant, unique

PASSKEY = re.compile(r'id="new-passkey" type="text" readonly autocomplete="off" spellcheck="false" value="([^"]+)"')


@pytest.fixture
def ops(api) -> Http:
    return Http(api, api.operator())


def operator_login(api) -> str:
    """Log in to the console as the operator; returns the CSRF token of the first page after it."""
    token = csrf_of(api.client.get("/login").text)
    login = {"csrf_token": token, "username": OPERATOR[0], "password": OPERATOR[1]}
    assert api.client.post("/login", data=login, follow_redirects=False).status_code == 303
    return csrf_of(api.client.get("/tenants").text)


def tenant_names(ops: Http) -> list[str]:
    return [t["name"] for t in ops.get(f"{API}/tenants?limit=1000")["items"]]


def plan_of(ops: Http, tenant_id: int):
    return ops.request("GET", f"{API}/tenants/{tenant_id}/bcp")


def passkey_in(html: str) -> str | None:
    found = PASSKEY.search(html)
    return found.group(1) if found else None


def switch(ops: Http, tenant_id: int, to: str, passkey: str):
    return ops.request("POST", f"{API}/tenants/{tenant_id}/bcp/switch", json={"to": to, "passkey": passkey})


def pair(api, token: str, primary_id: int, bcp_id: int):
    return api.client.post(f"/tenants/{primary_id}/bcp", data={"csrf_token": token, "bcp_tenant_id": str(bcp_id)})


def regenerate(api, token: str, tenant_id: int, replaces: str | None = None):
    if replaces is None:
        replaces = re.search(r'name="replaces" value="([^"]+)"', api.client.get(f"/tenants/{tenant_id}").text).group(1)
    return api.client.post(f"/tenants/{tenant_id}/bcp/passkey", data={"csrf_token": token, "replaces": replaces})


def test_creating_shows_the_messages_next_to_the_fields_and_then_opens_the_new_tenant(api, ops):
    token = operator_login(api)
    before = tenant_names(ops)
    refused = api.client.post("/tenants", data={"csrf_token": token, "name": "   ", "region": "mars1"})
    assert refused.status_code == 422
    assert re.search(r'id="name-error" class="field-error">must be 1 to 200 characters<', refused.text)
    assert re.search(r'id="region-error" class="field-error">must be one of eu1, na1<', refused.text)
    assert tenant_names(ops) == before

    name = unique("Console tenant")
    created = api.client.post(
        "/tenants", data={"csrf_token": token, "name": name, "region": "eu1"}, follow_redirects=False
    )
    assert created.status_code == 303
    tenant_id = int(re.fullmatch(r"/tenants/(\d+)\?created=1", created.headers["location"]).group(1))
    page = api.client.get(created.headers["location"])
    assert page.status_code == 200 and f"<h1>{name}</h1>" in page.text and "Tenant created" in page.text
    assert f'action="/tenants/{tenant_id}/bcp"' in page.text and "Validate" in page.text
    assert ops.get(f"{API}/tenants/{tenant_id}")["region"] == "eu1"
    listed = api.client.get("/tenants").text
    assert f'<a href="/tenants/{tenant_id}">{name}</a>' in listed and "not paired" in listed

    taken = api.client.post("/tenants", data={"csrf_token": token, "name": name, "region": "na1"})
    assert taken.status_code == 409
    assert re.search(r'id="name-error" class="field-error">another tenant has this name already<', taken.text)
    assert f'value="{name}"' in taken.text and tenant_names(ops).count(name) == 1


def test_validate_lists_the_problems_then_pair_shows_the_passkey_once_and_it_switches(api, ops):
    primary, same_region, bcp = new_tenant(ops, "na1"), new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    token = operator_login(api)
    form = {"csrf_token": token, "bcp_tenant_id": str(same_region["id"])}
    checked = api.client.post(f"/tenants/{primary['id']}/bcp/validate", data=form)
    assert checked.status_code == 200
    alert = re.search(r'<div role="alert" class="alert">(.*?)</div>', checked.text, re.S).group(1)
    assert "<code>same_region</code>: Both tenants are in na1" in alert
    refused = pair(api, token, primary["id"], same_region["id"])
    assert refused.status_code == 409 and "<code>same_region</code>" in refused.text
    assert passkey_in(refused.text) is None and plan_of(ops, primary["id"]).status_code == 404

    form["bcp_tenant_id"] = str(bcp["id"])
    fine = api.client.post(f"/tenants/{primary['id']}/bcp/validate", data=form)
    assert fine.status_code == 200 and "No problem found" in fine.text and 'role="alert"' not in fine.text
    assert f'<option value="{bcp["id"]}" selected>' in fine.text
    assert plan_of(ops, primary["id"]).status_code == 404  # validating makes nothing

    paired = pair(api, token, primary["id"], bcp["id"])
    assert paired.status_code == 200 and paired.headers["cache-control"] == "no-store"
    passkey = passkey_in(paired.text)
    assert passkey and re.fullmatch(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}", passkey)
    assert "shown only this once" in paired.text and passkey not in str(paired.url)
    assert plan_of(ops, primary["id"]).json()["bcp"]["tenant_id"] == bcp["id"]

    again = pair(api, token, primary["id"], bcp["id"])  # what a reload of that page sends
    assert again.status_code == 409 and "<code>already_paired</code>" in again.text and passkey not in again.text
    for later in (f"/tenants/{primary['id']}", f"/tenants/{bcp['id']}", "/tenants", f"/tenants/{primary['id']}/bcp"):
        assert passkey not in api.client.get(later).text
    detail = api.client.get(f"/tenants/{bcp['id']}").text
    assert "the <strong>BCP</strong> tenant of the plan" in detail and f'href="/tenants/{primary["id"]}"' in detail

    assert switch(ops, primary["id"], "bcp", passkey).status_code == 200
    page = api.client.get(f"/tenants/{primary['id']}").text
    assert re.search(r"<dt>Active side</dt>\s*<dd><span class=\"badge badge-bcp\">BCP</span>", page)
    assert re.search(r"<dt>Epoch</dt><dd>1</dd>", page)


def test_regenerating_asks_first_invalidates_the_old_passkey_and_a_resend_changes_nothing(api, ops):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    token = operator_login(api)
    first = passkey_in(pair(api, token, primary["id"], bcp["id"]).text)
    page = api.client.get(f"/tenants/{bcp['id']}").text
    assert re.search(r"<details>\s*<summary>Regenerate the passkey</summary>", page) and "confirm(" not in page
    replaces = re.search(r'name="replaces" value="([^"]+)"', page).group(1)

    answer = regenerate(api, token, bcp["id"], replaces)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    second = passkey_in(answer.text)
    assert second and second != first and "The previous passkey no longer works" in answer.text
    assert passkey_in(api.client.get(f"/tenants/{bcp['id']}").text) is None

    resent = regenerate(api, token, bcp["id"], replaces)  # a reload of the page that showed it
    assert resent.status_code == 409 and passkey_in(resent.text) is None
    assert "Nothing was changed" in resent.text and 'role="alert"' in resent.text

    wrong = switch(ops, primary["id"], "bcp", first)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_passkey"
    assert switch(ops, primary["id"], "bcp", second).status_code == 200


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, ops):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    other = new_tenant(ops, "na1")
    token = operator_login(api)
    passkey = passkey_in(pair(api, token, primary["id"], bcp["id"]).text)
    names = tenant_names(ops)
    wrong = forged(token)
    for form in ({}, {"csrf_token": wrong}):
        created = api.client.post("/tenants", data={**form, "name": unique("Forged"), "region": "na1"})
        assert created.status_code == 403 and "Not allowed" in created.text
        for path in ("/bcp/validate", "/bcp"):
            assert (
                api.client.post(f"/tenants/{other['id']}{path}", data={**form, "bcp_tenant_id": bcp["id"]}).status_code
                == 403
            )
        assert regenerate(api, form.get("csrf_token", ""), primary["id"]).status_code == 403
    assert tenant_names(ops) == names and plan_of(ops, other["id"]).status_code == 404
    assert switch(ops, primary["id"], "bcp", passkey).status_code == 200  # still the passkey


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False, synced=False)


def test_tenant_users_get_403_pages_and_their_posts_change_nothing(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    assert 'href="/tenants"' not in api.client.get("/").text
    for path in ("/tenants", f"/tenants/{plan.primary_id}"):
        answer = api.client.get(path)
        assert answer.status_code == 403 and "Only an operator" in answer.text
    names = tenant_names(plan.ops)
    refused = api.client.post("/tenants", data={"csrf_token": token, "name": unique("Sneaky"), "region": "na1"})
    assert refused.status_code == 403 and tenant_names(plan.ops) == names
    regenerated = regenerate(api, token, plan.primary_id, replaces="anything")
    assert regenerated.status_code == 403 and passkey_in(regenerated.text) is None
    validated = api.client.post(
        f"/tenants/{plan.primary_id}/bcp/validate", data={"csrf_token": token, "bcp_tenant_id": plan.bcp_id}
    )
    assert validated.status_code == 403
    assert plan.switch("bcp").status_code == 200  # the passkey is the one it was


def test_unknown_tenants_are_404_pages_and_a_plan_needs_a_pairing_first(api, ops):
    token = operator_login(api)
    for path in ("/tenants/987654321", "/tenants/not-a-number", f"/tenants/{10**30}"):
        answer = api.client.get(path)
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"], path
    lonely = new_tenant(ops, "na1")
    missing = api.client.post("/tenants/987654321/bcp", data={"csrf_token": token, "bcp_tenant_id": lonely["id"]})
    assert missing.status_code == 404 and "Tenant 987654321 does not exist" in missing.text
    unpaired = regenerate(api, token, lonely["id"], replaces="x")
    assert unpaired.status_code == 404 and "has no BCP plan" in unpaired.text
    no_choice = api.client.post(f"/tenants/{lonely['id']}/bcp", data={"csrf_token": token, "bcp_tenant_id": ""})
    assert no_choice.status_code == 422 and 'id="bcp-error" class="field-error">must be a tenant id<' in no_choice.text
    gone = api.client.post(f"/tenants/{lonely['id']}/bcp", data={"csrf_token": token, "bcp_tenant_id": "987654321"})
    assert gone.status_code == 409 and "<code>bcp_tenant_not_found</code>" in gone.text
    assert plan_of(ops, lonely["id"]).status_code == 404


def test_the_list_pages_and_the_pager_keeps_the_page_size(api, ops):
    for _ in range(11):
        new_tenant(ops, "na1")
    operator_login(api)
    total = len(tenant_names(ops))
    first = api.client.get("/tenants?per=10").text
    assert f"Showing 1–10 of {total:,}" in first and 'href="/tenants?per=10&amp;page=2"' in first
    assert len(re.findall(r'<th scope="row"><a href="/tenants/\d+">', first)) == 10
    second = api.client.get("/tenants?per=10&page=2").text
    assert f"Showing 11–{min(20, total)} of {total:,}" in second and 'href="/tenants?per=10"' in second


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/bcp/sync", "Operators: sync belongs to a tenant's plan; use the API for it."),
        ("/bcp/failback", "Operators read and apply failback with the API or the command line."),
        ("/bcp/access", "This page belongs to a tenant: operators use the API or the command line for it."),
        ("/bcp/checklist", "Operators: the checklist belongs to a tenant's plan; use the API for it."),
    ],
)
def test_a_page_of_a_tenant_tells_an_operator_what_to_use_instead(api, path, says):
    operator_login(api)
    answer = api.client.get(path)
    assert answer.status_code == 403
    assert says in html.unescape(answer.text)


def test_an_operator_is_shown_only_the_pages_an_operator_can_open(api):
    operator_login(api)
    nav = re.search(r'<nav class="container main-nav" aria-label="Main">(.*?)</nav>', api.client.get("/").text, re.S)
    assert re.findall(r'<a href="([^"]+)"', nav.group(1)) == ["/", "/tenants", "/regions"]


def test_an_operator_cannot_switch_from_the_console_and_is_told_what_to_use(api, platform):
    token = operator_login(api)
    answer = api.client.post("/bcp/switchover", data={"csrf_token": token, "to": "bcp", "passkey": "anything"})
    assert answer.status_code == 403
    assert "Operators switch with the API or the command line." in html.unescape(answer.text)
