"""The console's alerts and regions pages over HTTP (SQLite and PostgreSQL): the API's
permission checks, CSRF refusals that change nothing, adding (with the webhook secret shown
once) and removing, the API's validation messages next to the fields, and the operators'
region status."""

from __future__ import annotations

import re

import pytest

from tests.bcp_fixture import PASSWORD, build_plan
from tests.conftest import OPERATOR
from tests.integration.test_console_http import console_login, csrf_of, forged
from tests.sync_fixture import API

WEBHOOK = "https://93.184.216.34/lifeboat-hook"  # a literal public address: nothing resolved, nothing sent


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False, synced=False)


def subscriptions(plan) -> list[dict]:
    return plan.ops.get(f"{API}/tenants/{plan.primary_id}/alert-subscriptions")["items"]


def add_alert_viewer(plan) -> str:
    """A user who may read subscriptions (bcp.enablement.view) but not change them."""
    role = plan.make("roles", "alert_viewer", {"name": "Alert viewer", "permissions": ["bcp.enablement.view"]})
    username = f"alertviewer{plan.primary_id}"
    plan.make(
        "users",
        "alert_viewer",
        {
            "username": username,
            "email": f"{username}@example.com",
            "first_name": "Alert",
            "last_name": "Viewer",
            "role_id": role,
            "password": PASSWORD,
        },
    )
    return username


def add(api, token: str, **form) -> object:
    return api.client.post("/alerts", data={"csrf_token": token, **form})


def test_an_admin_adds_a_webhook_sees_its_secret_once_and_removes_it(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    assert "No subscription yet" in api.client.get("/alerts").text
    answer = add(api, token, kind="webhook", target=WEBHOOK, events=["sync_failed", "switched"])
    assert answer.status_code == 200
    [sub] = subscriptions(plan)
    assert (sub["kind"], sub["target"], sub["events"]) == ("webhook", WEBHOOK, ["switched", "sync_failed"])
    secret = re.search(r'id="new-secret" type="text" readonly value="([^"]+)"', answer.text).group(1)
    assert len(secret) >= 32
    listed = api.client.get("/alerts").text
    assert WEBHOOK in listed and secret not in listed and 'id="new-secret"' not in listed
    assert f'action="/alerts/{sub["id"]}/remove"' in listed and "<details>" in listed
    removed = api.client.post(f"/alerts/{sub['id']}/remove", data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"] == f"/alerts?removed={sub['id']}"
    assert subscriptions(plan) == []
    assert f"Subscription {sub['id']} removed" in api.client.get(removed.headers["location"]).text


def test_send_test_event_queues_a_test_for_that_subscription_only_and_says_so(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    add(api, token, kind="email", target="first@example.com", events=["switched"])
    add(api, token, kind="email", target="second@example.com", events=["switched"])
    first, second = subscriptions(plan)
    page = api.client.get("/alerts").text
    assert page.count("Send test event") == 2 and f'action="/alerts/{first["id"]}/test"' in page

    sent = api.client.post(f"/alerts/{first['id']}/test", data={"csrf_token": token}, follow_redirects=False)

    assert sent.status_code == 303 and sent.headers["location"] == f"/alerts?tested={first['id']}"
    assert f"Test event queued for subscription {first['id']}" in api.client.get(sent.headers["location"]).text
    recent = {s["target"]: [(d["event"], d["status"]) for d in s["recent"]] for s in subscriptions(plan)}
    assert recent == {"first@example.com": [("test", "pending")], "second@example.com": []}
    assert "test: pending" in api.client.get("/alerts").text


def test_an_email_subscription_shows_no_secret(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = add(api, token, kind="email", target="oncall@example.com", events=["region_down"])
    assert answer.status_code == 200 and "Subscription" in answer.text and 'id="new-secret"' not in answer.text
    assert [(s["kind"], s["events"]) for s in subscriptions(plan)] == [("email", ["region_down"])]


def test_the_apis_validation_messages_show_next_to_the_fields_and_nothing_is_added(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = add(api, token, kind="email", target="not an address")
    assert answer.status_code == 422
    assert re.search(r'id="target-error" class="field-error">an email subscription needs an address<', answer.text)
    assert re.search(r'id="events-error" class="field-error">a non-empty list of: ', answer.text)
    assert 'value="not an address"' in answer.text and 'aria-invalid="true"' in answer.text
    private = add(api, token, kind="webhook", target="http://127.0.0.1:8080/x", events=["switched"])
    assert private.status_code == 422 and 'id="target-error"' in private.text
    assert subscriptions(plan) == []


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    add(api, token, kind="email", target="keep@example.com", events=["switched"])
    [sub] = subscriptions(plan)
    wrong = forged(token)
    for form in ({}, {"csrf_token": wrong}):
        body = {**form, "kind": "email", "target": "new@example.com", "events": "switched"}
        assert api.client.post("/alerts", data=body).status_code == 403
        assert api.client.post(f"/alerts/{sub['id']}/remove", data=form).status_code == 403
        assert api.client.post(f"/alerts/{sub['id']}/test", data=form).status_code == 403
    assert [(s["target"], s["recent"]) for s in subscriptions(plan)] == [("keep@example.com", [])]


def test_a_viewer_sees_the_list_without_forms_and_every_post_is_403(api, plan):
    admin_token = console_login(api, plan.usernames["admin"], plan.primary_id)
    add(api, admin_token, kind="email", target="keep@example.com", events=["switched"])
    [sub] = subscriptions(plan)
    api.client.cookies.clear()
    token = console_login(api, add_alert_viewer(plan), plan.primary_id)
    page = api.client.get("/alerts")
    assert page.status_code == 200 and "keep@example.com" in page.text
    assert 'action="/alerts"' not in page.text and "/remove" not in page.text and "Send test event" not in page.text
    assert add(api, token, kind="email", target="new@example.com", events=["switched"]).status_code == 403
    assert api.client.post(f"/alerts/{sub['id']}/remove", data={"csrf_token": token}).status_code == 403
    assert api.client.post(f"/alerts/{sub['id']}/test", data={"csrf_token": token}).status_code == 403
    assert [(s["target"], s["recent"]) for s in subscriptions(plan)] == [("keep@example.com", [])]


def test_without_the_view_permission_the_page_is_403(api, plan):
    console_login(api, plan.usernames["single"], plan.primary_id)
    answer = api.client.get("/alerts")
    assert answer.status_code == 403 and "Not allowed" in answer.text


def test_removing_another_tenants_subscription_is_404_and_changes_nothing(api, plan):
    bcp_sub = plan.ops.call(
        "POST",
        f"{API}/tenants/{plan.bcp_id}/alert-subscriptions",
        json={"kind": "email", "target": "bcp@example.com", "events": ["switched"]},
        expect=201,
    )
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = api.client.post(f"/alerts/{bcp_sub['id']}/remove", data={"csrf_token": token})
    assert answer.status_code == 404
    assert api.client.post(f"/alerts/{bcp_sub['id']}/test", data={"csrf_token": token}).status_code == 404
    assert plan.ops.get(f"{API}/tenants/{plan.bcp_id}/alert-subscriptions")["items"][0]["recent"] == []
    assert plan.ops.get(f"{API}/tenants/{plan.bcp_id}/alert-subscriptions")["items"][0]["id"] == bcp_sub["id"]


def test_operators_see_every_region_up_and_tenant_users_get_403(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    assert api.client.get("/regions").status_code == 403
    api.client.cookies.clear()
    token = csrf_of(api.client.get("/login").text)
    login = {"csrf_token": token, "username": OPERATOR[0], "password": OPERATOR[1]}
    assert api.client.post("/login", data=login, follow_redirects=False).status_code == 303
    answer = api.client.get("/regions")
    assert answer.status_code == 200
    rows = re.findall(r'<th scope="row">(\w+)</th><td><span class="status status-(\w+)">', answer.text)
    assert rows == [("na1", "up"), ("eu1", "up")]
    assert 'Directory database: <span class="status status-up">' in answer.text
