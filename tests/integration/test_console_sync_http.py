"""The Sync and Script checklist pages over HTTP, without a browser, on SQLite and PostgreSQL:
who may read and who may change (the API's permissions), CSRF on every post (a refusal changes
nothing), a run watched from queued to its end, settings saved or refused field by field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.bcp_fixture import PASSWORD, build_plan
from tests.integration.test_console_http import console_login, forged
from tests.integration.test_rpo_alarm import age

SETTINGS = {"enabled": "true", "mode": "default", "schedule": "daily", "script_ids": "remap"}


@pytest.fixture
def plan(api, platform):
    plan = build_plan(api, platform, bcp_only=False)
    role = plan.make("roles", "reader", {"name": "Sync reader", "permissions": ["agent", "bcp.sync.view"]})
    plan.usernames["reader"] = f"reader{plan.primary_id}"
    plan.make(
        "users",
        "reader",
        {
            "username": plan.usernames["reader"],
            "email": f"reader{plan.primary_id}@example.com",
            "first_name": "Reader",
            "last_name": "Tester",
            "role_id": role,
            "bcp_type": "single",
            "password": PASSWORD,
        },
    )
    return plan


def runs_of(plan) -> list[dict]:
    return plan.ops.get(plan.url("/sync-runs"))["items"]


def settings_of(plan) -> dict:
    return plan.ops.get(plan.url("/sync-settings"))


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    runs, settings = runs_of(plan), settings_of(plan)
    for form in ({}, {"csrf_token": "forged"}, {"csrf_token": forged(token)}):
        assert api.client.post("/bcp/sync/runs", data=form).status_code == 403
        answer = api.client.post("/bcp/sync/settings", data={**form, **SETTINGS, "enabled": ""})
        assert answer.status_code == 403 and "Not allowed" in answer.text
    assert runs_of(plan) == runs and settings_of(plan) == settings


def test_a_reader_sees_read_only_settings_and_its_posts_are_403(api, plan):
    token = console_login(api, plan.usernames["reader"])
    page = api.client.get("/bcp/sync")
    assert page.status_code == 200
    assert re.search(r"<fieldset disabled", page.text) and "Enable sync" in page.text
    assert ">Sync now<" not in page.text and ">Save<" not in page.text
    assert api.client.get("/bcp/sync/preview").status_code == 200
    assert api.client.get("/bcp/checklist").status_code == 200
    runs, settings = runs_of(plan), settings_of(plan)
    assert api.client.post("/bcp/sync/runs", data={"csrf_token": token}).status_code == 403
    answer = api.client.post(
        "/bcp/sync/settings", data={"csrf_token": token, **SETTINGS, "schedule": "interval", "every_minutes": "30"}
    )
    assert answer.status_code == 403 and "bcp.sync.edit" in answer.text
    assert runs_of(plan) == runs and settings_of(plan) == settings


def test_an_agent_without_sync_view_gets_403_on_every_sync_page(api, plan):
    console_login(api, plan.usernames["single"])
    run_id = runs_of(plan)[0]["id"]
    for path in (
        "/bcp/sync",
        "/bcp/sync/preview",
        f"/bcp/sync/runs/{run_id}",
        f"/bcp/sync/runs/{run_id}/progress",
        "/bcp/checklist",
        "/bcp/checklist?show=look",
    ):
        answer = api.client.get(path)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path


def test_sync_now_is_watched_from_queued_until_it_ends(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = api.client.post("/bcp/sync/runs", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    run_id = int(re.fullmatch(r"/bcp/sync/runs/(\d+)", answer.headers["location"]).group(1))
    page = api.client.get(f"/bcp/sync/runs/{run_id}").text
    assert "queued" in page and f'hx-get="/bcp/sync/runs/{run_id}/progress"' in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript the page refreshes itself
    assert f'hx-get="/bcp/sync/runs/{run_id}/progress"' in api.client.get("/bcp/sync").text  # the history page too

    fragment = api.client.get(f"/bcp/sync/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "hx-refresh" not in fragment.headers and "queued" in fragment.text
    plan.work(run_id)  # the worker (the server runs one; here the test is the worker)
    fragment = api.client.get(f"/bcp/sync/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert fragment.headers["hx-refresh"] == "true"
    page = api.client.get(f"/bcp/sync/runs/{run_id}").text
    assert "status-succeeded" in page and "hx-get" not in page and "Drift (0)" in page
    assert f'href="/bcp/sync/runs/{run_id}">Run {run_id}</a>' in api.client.get("/bcp/sync").text


def test_settings_are_saved_or_refused_field_by_field(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    form = {
        "csrf_token": token,
        **SETTINGS,
        "mode": "custom",
        "entity_types": ["skills", "users"],
        "schedule": "interval",
        "every_minutes": "30",
        "script_ids": "keep",
    }
    answer = api.client.post("/bcp/sync/settings", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/bcp/sync?saved=true"
    saved = settings_of(plan)
    assert saved["mode"] == "custom" and saved["entity_types"] == ["skills", "users"]
    assert saved["schedule"] == {"kind": "interval", "every_minutes": 30} and saved["script_ids"] == "keep"
    assert "Settings saved." in api.client.get(answer.headers["location"]).text

    for bad, field, message in (
        ({"every_minutes": "4"}, "every_minutes", "at least 5"),
        ({"every_minutes": "soon"}, "every_minutes", "an integer"),
        ({"entity_types": []}, "entity_types", "at least one entity type"),
        ({"script_ids": "rewrite"}, "script_ids", "remap or keep"),
    ):
        answer = api.client.post("/bcp/sync/settings", data={**form, **bad})
        assert answer.status_code == 422, bad
        assert re.search(rf'id="error-{field}"[^>]*>[^<]*{message}', answer.text), bad
        assert 'role="alert"' in answer.text
    assert settings_of(plan) == saved


def test_turning_sync_on_sends_the_browser_to_the_first_run(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    off = api.client.post(
        "/bcp/sync/settings", data={"csrf_token": token, **SETTINGS, "enabled": ""}, follow_redirects=False
    )
    assert off.status_code == 303 and settings_of(plan)["enabled"] is False
    on = api.client.post("/bcp/sync/settings", data={"csrf_token": token, **SETTINGS}, follow_redirects=False)
    assert on.status_code == 303
    first = runs_of(plan)[0]
    assert first["trigger"] == "enable" and on.headers["location"] == f"/bcp/sync/runs/{first['id']}"


def test_preview_shows_an_entity_changed_in_the_primary(api, plan):
    plan.make("dispositions", "new", {"name": "Callback promised"})
    console_login(api, plan.usernames["admin"], plan.primary_id)
    page = api.client.get("/bcp/sync/preview").text
    assert "Callback promised" in page and "action-create" in page
    fragment = api.client.get("/bcp/sync/preview", headers={"HX-Request": "true"}).text
    assert "Callback promised" in fragment and "<html" not in fragment
    assert runs_of(plan)[0]["status"] == "succeeded"  # a preview writes nothing and starts nothing


def test_a_run_of_another_plan_is_a_404_page(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = api.client.get("/bcp/sync/runs/999999")
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]


def test_sync_now_while_bcp_is_active_is_refused_and_starts_nothing(api, plan):
    plan.switch("bcp")
    token = console_login(api, plan.usernames["admin"], plan.bcp_id)
    page = api.client.get("/bcp/sync").text
    assert "sync is paused" in page and ">Sync now<" not in page
    runs = runs_of(plan)
    answer = api.client.post("/bcp/sync/runs", data={"csrf_token": token})
    assert answer.status_code == 409 and 'role="alert"' in answer.text and "paused" in answer.text
    assert runs_of(plan) == runs


def test_the_checklist_lists_the_script_references_and_filters_to_what_needs_a_look(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    page = api.client.get("/bcp/checklist").text
    assert page.count('<tr class="needs-look">') == 0 and "Inbound/Main" in page and "status-remapped" in page
    assert "Nothing needs a look" in api.client.get("/bcp/checklist?show=look").text
    assert "No reference matches" in api.client.get("/bcp/checklist?script=Outbound").text


def test_the_stale_after_threshold_is_saved_cleared_or_refused(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    form = {"csrf_token": token, **SETTINGS}

    answer = api.client.post("/bcp/sync/settings", data={**form, "stale_after_minutes": "2880"}, follow_redirects=False)
    assert answer.status_code == 303 and settings_of(plan)["stale_after_minutes"] == 2880
    assert re.search(r'id="stale_after_minutes"[^>]*value="2880"', api.client.get("/bcp/sync").text)
    assert "Stale after (minutes)" in api.client.get("/bcp/sync").text

    refused = api.client.post("/bcp/sync/settings", data={**form, "stale_after_minutes": "60"})
    assert refused.status_code == 422
    assert re.search(r'id="error-stale_after_minutes"[^>]*>[^<]*one period of the schedule', refused.text)
    assert settings_of(plan)["stale_after_minutes"] == 2880

    api.client.post("/bcp/sync/settings", data={**form, "stale_after_minutes": ""}, follow_redirects=False)
    assert settings_of(plan)["stale_after_minutes"] is None


def test_the_overview_says_when_the_copy_is_stale(api, plan, platform):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    assert re.search(r"<dt>Copy</dt><dd>fresh</dd>", api.client.get("/").text)

    age(platform, plan.ops.get(plan.url(""))["id"], timedelta(hours=27))
    page = api.client.get("/").text

    assert re.search(r'<dt>Copy</dt><dd><strong class="stale">Stale since .*</strong>: older than its threshold', page)
    assert "The copy is stale: older than 26 h since" in page  # the readiness check's line
