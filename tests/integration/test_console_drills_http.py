"""The console's Drill page over HTTP (SQLite and PostgreSQL): the API's permissions (view to
see it, edit to start and end), CSRF refusals that change nothing, a start and end round trip
with the counters and the banner, the API's messages next to the form with nothing changed,
the no-JavaScript search that keeps what was ticked, and another plan's drills out of reach."""

from __future__ import annotations

import re

import pytest

from lifeboat.console.pages import drills as console_drills
from tests.bcp_fixture import PASSWORD, build_plan
from tests.integration.test_console_http import console_login

WRONG = "WRONG-WRONG-WRONG-WRONG"


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False)  # synced: the voice number has its BCP copy


def drills_of(plan) -> list[dict]:
    return plan.ops.get(plan.url("/drills"))["items"]


def admin_in(api, plan) -> str:
    return console_login(api, plan.usernames["admin"], plan.primary_id)


def start(api, token: str, plan, **form) -> object:
    fields = {
        "csrf_token": token,
        "numbers": [plan.numbers["voice"]],
        "users": [plan.usernames["none"]],
        "minutes": "30",
        "passkey": plan.passkey,
        "action": "start",
        **form,
    }
    return api.client.post("/bcp/drills", data=fields, follow_redirects=False)


def add_viewer(plan) -> str:
    """A user who may read drills (bcp.enablement.view) but not start or end one."""
    role = plan.make("roles", "drill_viewer", {"name": "Drill viewer", "permissions": ["bcp.enablement.view"]})
    username = f"drillviewer{plan.primary_id}"
    payload = {
        "username": username,
        "email": f"{username}@example.com",
        "first_name": "Drill",
        "last_name": "Viewer",
        "role_id": role,
        "password": PASSWORD,
    }
    plan.make("users", "drill_viewer", payload)
    return username


def test_an_admin_starts_a_drill_watches_its_counters_and_ends_it(api, plan):
    token = admin_in(api, plan)
    page = api.client.get("/bcp/drills")
    assert page.status_code == 200
    assert '<a href="/bcp/drills" aria-current="page">Drills</a>' in page.text
    assert f'value="{plan.numbers["voice"]}"' in page.text and f'value="{plan.usernames["none"]}"' in page.text
    assert plan.numbers["chat"] not in page.text  # only voice numbers can be drilled
    assert "No past drill yet" in page.text

    answer = start(api, token, plan)
    assert answer.status_code == 303 and answer.headers["location"] == "/bcp/drills"
    [drill] = drills_of(plan)
    assert (drill["status"], drill["numbers"], drill["users"]) == (
        "running",
        [plan.numbers["voice"]],
        [plan.usernames["none"]],
    )
    running = api.client.get("/bcp/drills").text
    assert f"Drill {drill['id']}" in running and f'hx-get="/bcp/drills/{drill["id"]}/live"' in running
    assert "Calls routed" in running and "Pilot logins" in running and 'name="passkey"' not in running
    assert f'action="/bcp/drills/{drill["id"]}/end"' in running and "<details" in running
    assert "A drill is running" in api.client.get("/").text  # the banner, on every page
    assert plan.login("none").json()["tenant"]["id"] == plan.bcp_id  # the pilot counts
    live = api.client.get(f"/bcp/drills/{drill['id']}/live")
    assert live.status_code == 200 and re.search(r'data-counter="logins">1<', live.text)
    assert "HX-Refresh" not in live.headers

    ended = api.client.post(f"/bcp/drills/{drill['id']}/end", data={"csrf_token": token}, follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == f"/bcp/drills?ended={drill['id']}"
    [after] = drills_of(plan)
    assert after["status"] == "ended" and after["ended_by"] == f"user:{plan.usernames['admin']}"
    page = api.client.get(ended.headers["location"]).text
    assert f"Drill {drill['id']} ended" in page and "Past drills" in page and "No past drill yet" not in page
    assert f"by user:{plan.usernames['admin']}" in page and "A drill is running" not in page
    assert 'name="passkey"' in page  # the start form is back
    assert api.client.get(f"/bcp/drills/{drill['id']}/live").headers["HX-Refresh"] == "true"
    again = api.client.post(f"/bcp/drills/{drill['id']}/end", data={"csrf_token": token})
    assert again.status_code == 409 and "has ended already" in again.text


def test_typed_numbers_and_usernames_are_taken_as_the_api_takes_them(api, plan):
    token = admin_in(api, plan)
    typed = {
        "numbers": [],
        "users": [],
        "other_numbers": f" {plan.numbers['voice']} ,",
        "other_users": "single" + str(plan.primary_id),
    }
    assert start(api, token, plan, **typed).status_code == 303
    [drill] = drills_of(plan)
    assert drill["numbers"] == [plan.numbers["voice"]] and drill["users"] == [plan.usernames["single"]]


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"passkey": WRONG}, 403, "The passkey is wrong; nothing changed."),
        ({"passkey": ""}, 422, "passkey: is required"),
        ({"numbers": ["+15550000001"]}, 422, "+15550000001 is not an active voice point of contact of the primary"),
        ({"users": ["nobody-at-all"]}, 422, "nobody-at-all is not a user of the primary"),
        ({"numbers": []}, 422, "must be 1 to 100 E.164 numbers"),
        ({"minutes": "9999"}, 422, "must be a whole number from 1 to 480"),
        ({"minutes": "soon"}, 422, "must be a whole number from 1 to 480"),
    ],
)
def test_a_refused_start_shows_the_api_message_and_changes_nothing(api, plan, form, status, message):
    token = admin_in(api, plan)
    answer = start(api, token, plan, **form)
    assert answer.status_code == status, answer.text
    assert 'role="alert"' in answer.text and message in answer.text
    assert plan.passkey not in answer.text  # the passkey is never echoed
    assert drills_of(plan) == []


def test_a_running_drill_bcp_active_and_the_lock_are_refused_with_their_message(api, plan):
    token = admin_in(api, plan)
    assert start(api, token, plan).status_code == 303
    twice = start(api, token, plan)
    assert twice.status_code == 409 and "A drill of this plan is running already. Nothing changed." in twice.text
    [drill] = drills_of(plan)
    api.client.post(f"/bcp/drills/{drill['id']}/end", data={"csrf_token": token})

    for _ in range(5):
        assert start(api, token, plan, passkey=WRONG).status_code == 403
    locked = start(api, token, plan)
    assert locked.status_code == 423 and "Nothing changed." in locked.text and 'role="alert"' in locked.text
    assert [d["status"] for d in drills_of(plan)] == ["ended"]


def test_no_drill_starts_while_bcp_is_active(api, plan):
    assert plan.switch("bcp").status_code == 200
    token = console_login(api, plan.usernames["admin"], plan.bcp_id)
    page = api.client.get("/bcp/drills").text
    assert "a drill cannot start until the primary is active again" in page and 'name="passkey"' not in page
    refused = start(api, token, plan)
    assert refused.status_code == 409 and "A drill cannot start while BCP is active." in refused.text
    assert drills_of(plan) == []


def test_find_narrows_the_choices_keeps_what_was_ticked_and_starts_nothing(api, plan):
    token = admin_in(api, plan)
    found = start(api, token, plan, action="find", uq="single", nq="")
    assert found.status_code == 200 and drills_of(plan) == []
    assert plan.passkey not in found.text and "Nothing started: the passkey is not kept" in found.text
    assert f'value="{plan.usernames["single"]}"' in found.text
    assert f'value="{plan.usernames["multiple"]}"' not in found.text  # narrowed
    ticked = re.search(rf'value="{plan.usernames["none"]}" checked', found.text)
    assert ticked, "the pilot ticked before the search stays ticked"
    nothing = api.client.get("/bcp/drills", params={"nq": "no such number"}).text
    assert "No voice number matches" in nothing


def test_a_large_tenant_is_offered_a_bounded_page_of_usernames_to_search(api, plan, monkeypatch):
    monkeypatch.setattr(console_drills, "USERS_SHOWN", 2)
    admin_in(api, plan)
    page = api.client.get("/bcp/drills").text
    assert len(re.findall(r'type="checkbox" name="users"', page)) == 2
    assert "Showing 2 of 4 users; search by username to narrow." in page
    narrowed = api.client.get("/bcp/drills", params={"uq": "multiple"}).text
    assert re.findall(r'name="users" value="([^"]+)"', narrowed) == [plan.usernames["multiple"]]


def test_an_unknown_pilot_is_named_next_to_the_pilot_field(api, plan):
    token = admin_in(api, plan)
    answer = start(api, token, plan, users=["ghost1", "ghost2"])
    assert answer.status_code == 422
    assert 'aria-describedby="other-users-help users-error"' in answer.text
    error = re.search(r'<small class="field-error" id="users-error">([^<]+)</small>', answer.text).group(1)
    assert "ghost1 is not a user of the primary" in error and "ghost2" in error
    assert answer.text.count('id="users-error"') == 1


def test_the_page_needs_view_and_starting_or_ending_needs_edit_as_in_the_api(api, plan):
    agent = console_login(api, plan.usernames["single"])  # agent role: no bcp.enablement.view
    assert "/bcp/drills" not in api.client.get("/").text
    assert api.client.get("/bcp/drills").status_code == 403
    assert start(api, agent, plan).status_code == 403
    assert drills_of(plan) == []
    api.client.cookies.clear()

    viewer = console_login(api, add_viewer(plan))
    page = api.client.get("/bcp/drills")
    assert page.status_code == 200 and 'name="passkey"' not in page.text
    assert "needs the permission bcp.enablement.edit" in page.text
    refused = start(api, viewer, plan)
    assert refused.status_code == 403 and "bcp.enablement.edit" in refused.text
    assert drills_of(plan) == []

    body = {"numbers": [plan.numbers["voice"]], "users": [], "passkey": plan.passkey}
    drill = plan.ops.call("POST", plan.url("/drills"), json=body, expect=201)
    running = api.client.get("/bcp/drills").text
    assert f"Drill {drill['id']}" in running and "End drill" not in running and "A drill is running" in running
    assert api.client.post(f"/bcp/drills/{drill['id']}/end", data={"csrf_token": viewer}).status_code == 403
    assert drills_of(plan)[0]["status"] == "running"


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, plan):
    token = admin_in(api, plan)
    assert start(api, "", plan).status_code == 403
    assert start(api, "forged" + token, plan).status_code == 403
    assert drills_of(plan) == []
    assert start(api, token, plan).status_code == 303
    [drill] = drills_of(plan)
    assert api.client.post(f"/bcp/drills/{drill['id']}/end", data={}).status_code == 403
    assert drills_of(plan)[0]["status"] == "running"


def test_another_plans_drill_is_out_of_reach(api, platform, plan):
    other = build_plan(api, platform, bcp_only=False)
    body = {"numbers": [other.numbers["voice"]], "users": [], "passkey": other.passkey}
    theirs = other.ops.call("POST", other.url("/drills"), json=body, expect=201)
    token = admin_in(api, plan)
    page = api.client.get("/bcp/drills").text
    assert other.numbers["voice"] not in page and other.usernames["none"] not in page
    assert "A drill is running" not in page
    assert api.client.get(f"/bcp/drills/{theirs['id']}/live").status_code == 404
    ended = api.client.post(f"/bcp/drills/{theirs['id']}/end", data={"csrf_token": token})
    assert ended.status_code == 404
    assert other.ops.get(other.url(f"/drills/{theirs['id']}"))["status"] == "running"
    refused = start(api, token, plan, numbers=[other.numbers["voice"]])
    assert refused.status_code == 422 and "is not an active voice point of contact" in refused.text
    assert drills_of(plan) == []
