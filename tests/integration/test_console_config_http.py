"""The console's Configuration pages over HTTP (SQLite and PostgreSQL): the 11 types listed by
permission, lists searched and paged (the search kept in the page links), view pages with
their references named, forms drawn from the type's fields with the API's messages next to
them, deactivate and delete behind their confirmation, and the API's refusals: CSRF, 403,
404, other tenants."""

from __future__ import annotations

import re

import pytest

from lifeboat.console.pages import config as config_page
from tests.bcp_fixture import build_plan
from tests.integration.test_console_http import console_login, forged
from tests.sync_fixture import API, entity_url


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False, synced=False)


def admin(api, plan) -> str:
    return console_login(api, plan.usernames["admin"], plan.primary_id)


def stored(plan, type_name: str, entity_id: int) -> dict:
    return plan.ops.get(entity_url(plan.primary_id, type_name, entity_id))


def names_of(plan, type_name: str) -> list[str]:
    return [e["name"] for e in plan.ops.get(entity_url(plan.primary_id, type_name) + "?limit=500")["items"]]


def error_of(html: str, field: str) -> str | None:
    found = re.search(rf'id="{field}-error" class="field-error">([^<]*)<', html)
    return found.group(1) if found else None


def post(api, url: str, token: str | None, **form):
    body = {**form, **({"csrf_token": token} if token is not None else {})}
    return api.client.post(url, data=body, follow_redirects=False)


def test_the_index_links_every_type_with_its_count(api, plan):
    admin(api, plan)
    answer = api.client.get("/config")
    assert answer.status_code == 200
    links = re.findall(r'<a href="/config/([a-z-]+)">', answer.text)
    assert sorted(links) == sorted(
        [
            "business-unit",
            "hours-of-operation",
            "dispositions",
            "skills",
            "roles",
            "teams",
            "users",
            "agent-settings",
            "points-of-contact",
            "files",
            "scripts",
        ]
    )
    row = re.search(r'href="/config/skills">Skills</a></th>\s*<td>ACD</td>\s*<td>(\d+)</td>', answer.text)
    assert row and row.group(1) == "3"


def test_an_agent_sees_only_the_types_it_may_read_and_gets_403_elsewhere(api, plan):
    token = console_login(api, plan.usernames["single"], plan.primary_id)  # agent + acd.view
    index = api.client.get("/config").text
    assert "/config/skills" in index and "/config/users" not in index and "/config/scripts" not in index
    for path in ("/config/users", "/config/scripts", f"/config/users/{plan.of('users', 'none')}", "/config/roles/new"):
        answer = api.client.get(path)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path
    listed = api.client.get("/config/skills")
    assert listed.status_code == 200 and "/config/skills/new" not in listed.text
    assert api.client.get("/config/skills/new").status_code == 403
    answer = post(api, "/config/skills", token, name="Sneaky", media_type="voice")
    assert answer.status_code == 403 and "Sneaky" not in names_of(plan, "skills")
    skill = plan.of("skills", "billing")
    assert post(api, f"/config/skills/{skill}/delete", token).status_code == 403
    assert stored(plan, "skills", skill)["name"] == "Billing"


def test_unknown_types_and_ids_are_404_pages(api, plan):
    admin(api, plan)
    for path in ("/config/widgets", "/config/skills/999999", f"/config/users/{plan.of('skills', 'billing')}"):
        answer = api.client.get(path)
        assert answer.status_code == 404 and "<html" in answer.text, path


def test_another_tenants_entity_is_404_and_is_not_changed(api, plan):
    other = plan.make("skills", "other", {"name": "Theirs"}, tenant_id=plan.bcp_id)
    token = admin(api, plan)
    assert api.client.get(f"/config/skills/{other}").status_code == 404
    assert post(api, f"/config/skills/{other}", token, name="Mine", media_type="voice").status_code == 404
    assert post(api, f"/config/skills/{other}/delete", token).status_code == 404
    assert plan.ops.get(entity_url(plan.bcp_id, "skills", other))["name"] == "Theirs"


def test_the_list_searches_pages_in_the_database_and_keeps_the_search(api, plan, monkeypatch):
    monkeypatch.setattr(config_page, "PAGE_SIZE", 2)
    for n in range(5):
        plan.make("dispositions", f"d{n}", {"name": f"Callback {n}"})
    admin(api, plan)
    first = api.client.get("/config/dispositions?q=callback")
    assert first.status_code == 200
    assert re.findall(r">(Callback \d)</a></th>", first.text) == ["Callback 0", "Callback 1"]
    assert "Showing 1–2 of 5" in first.text and 'href="/config/dispositions?q=callback&amp;page=2"' in first.text
    last = api.client.get("/config/dispositions?q=callback&page=3")
    assert re.findall(r">(Callback \d)</a></th>", last.text) == ["Callback 4"]
    assert 'href="/config/dispositions?q=callback&amp;page=2" rel="prev"' in last.text
    assert "Resolved" not in last.text
    none = api.client.get("/config/dispositions?q=nothing-like-this")
    assert "Nothing here matches “nothing-like-this”" in none.text
    users = api.client.get(f"/config/users?q={plan.usernames['multiple']}").text
    assert re.findall(r'href="/config/users/\d+">([^<]+)</a>', users) == [plan.usernames["multiple"]]
    assert 'class="status status-active">active<' in users


def test_an_empty_type_says_so_and_offers_the_first(api, plan):
    admin(api, plan)
    answer = api.client.get("/config/teams")
    assert "No teams yet." in answer.text and 'href="/config/teams/new"' in answer.text


def test_view_pages_name_their_references_and_show_the_bcp_type_and_script_references(api, plan):
    admin(api, plan)
    skill = api.client.get(f"/config/skills/{plan.of('skills', 'billing')}").text
    assert f'<a href="/config/hours-of-operation/{plan.of("hours-of-operation", "weekdays")}">Weekdays</a>' in skill
    assert f'<a href="/config/dispositions/{plan.of("dispositions", "resolved")}">Resolved</a>' in skill
    contact = api.client.get(f"/config/points-of-contact/{plan.of('points-of-contact', 'voice')}").text
    assert f'<a href="/config/skills/{plan.of("skills", "billing")}">Billing</a>' in contact
    assert f'<a href="/config/scripts/{plan.of("scripts", "main")}">open the script</a>' in contact
    user = api.client.get(f"/config/users/{plan.of('users', 'single')}").text
    assert "BCP type: single" in user and "password" not in user.lower().replace("password_hash", "")
    settings = api.client.get(f"/config/agent-settings/{plan.of('agent-settings', 'single')}").text
    assert '>Billing</a> <span class="muted">(proficiency 5)</span>' in settings
    script = api.client.get(f"/config/scripts/{plan.of('scripts', 'main')}").text
    assert "References in this script" in script
    refs = re.search(r'<table class="refs-table">.*?</table>', script, re.S).group(0)
    assert f'<a href="/config/skills/{plan.of("skills", "billing")}">' in refs and "REQAGENT" in refs


def test_the_business_unit_is_viewed_and_edited_as_one_record(api, plan):
    token = admin(api, plan)
    unit = plan.ops.get(f"{API}/tenants/{plan.primary_id}/business-unit")
    page = api.client.get("/config/business-unit").text
    assert f"<h1>{unit['name']}</h1>" in page and 'href="/config/business-unit/edit"' in page
    assert "Yes, delete" not in page
    form = api.client.get("/config/business-unit/edit").text
    assert '<select id="time_zone"' not in form and 'id="time_zone"' in form  # too many zones for a select
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    bad = post(api, "/config/business-unit", token, version=version, name="Acme", time_zone="Mars/Olympus")
    assert bad.status_code == 422 and "IANA time zone" in error_of(bad.text, "time_zone")
    saved = post(
        api, "/config/business-unit", token, version=version, name="Acme", time_zone="Europe/Paris", settings="{}"
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/config/business-unit?saved=1"
    assert plan.ops.get(f"{API}/tenants/{plan.primary_id}/business-unit")["time_zone"] == "Europe/Paris"
    assert api.client.get("/config/business-unit/new").status_code == 404
    assert post(api, "/config/business-unit/1/delete", token).status_code == 404


def test_a_create_with_a_mistake_shows_the_message_by_the_field_keeps_the_input_and_stores_nothing(api, plan):
    token = admin(api, plan)
    form = api.client.get("/config/skills/new").text
    assert '<label for="name">Name <span class="muted">(required)</span></label>' in form
    assert '<select id="media_type" name="media_type"' in form and '<select id="hours_of_operation_id"' in form
    assert (
        'type="checkbox" name="disposition_ids"' in form and 'id="is_active" name="is_active" type="checkbox"' in form
    )
    answer = post(api, "/config/skills", token, name="   ", media_type="voice", is_active="on")
    assert answer.status_code == 422
    assert error_of(answer.text, "name") == "Name must be 1 to 200 characters"
    assert 'aria-describedby="name-error" aria-invalid="true"' in answer.text
    assert names_of(plan, "skills") == ["Billing", "Support", "Chat"]
    bad_json = post(api, "/config/hours-of-operation", token, name="Nights", weekly="[{oops", time_zone="UTC")
    assert bad_json.status_code == 422 and "Weekly is not valid JSON" in error_of(bad_json.text, "weekly")
    assert 'value="Nights"' in bad_json.text and "[{oops</textarea>" in bad_json.text
    dup = post(api, "/config/skills", token, name="Billing", media_type="voice")
    assert dup.status_code == 409 and "already has this name" in error_of(dup.text, "name")


def test_a_create_then_an_edit_is_stored_as_the_api_would(api, plan):
    token = admin(api, plan)
    hours = str(plan.of("hours-of-operation", "weekdays"))
    resolved = str(plan.of("dispositions", "resolved"))
    made = post(
        api,
        "/config/skills",
        token,
        name="Renewals",
        media_type="email",
        hours_of_operation_id=hours,
        disposition_ids=[resolved],
        is_active="on",
    )
    assert made.status_code == 303
    skill_id = int(re.search(r"/config/skills/(\d+)\?done=saved", made.headers["location"]).group(1))
    made_skill = stored(plan, "skills", skill_id)
    assert {
        k: made_skill[k] for k in ("name", "media_type", "hours_of_operation_id", "disposition_ids", "is_active")
    } == {
        "name": "Renewals",
        "media_type": "email",
        "hours_of_operation_id": int(hours),
        "disposition_ids": [int(resolved)],
        "is_active": True,
    }
    form = api.client.get(f"/config/skills/{skill_id}/edit").text
    assert 'value="Renewals"' in form and f'<option value="{hours}" selected>Weekdays</option>' in form
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    edited = post(api, f"/config/skills/{skill_id}", token, version=version, name="Renewals 2", media_type="voice")
    assert edited.status_code == 303
    after = stored(plan, "skills", skill_id)
    assert (after["name"], after["hours_of_operation_id"], after["disposition_ids"], after["is_active"]) == (
        "Renewals 2",
        None,
        [],
        False,
    )
    assert "Saved." in api.client.get(edited.headers["location"]).text


def test_an_edit_over_an_older_version_is_refused_and_explained(api, plan):
    token = admin(api, plan)
    skill = plan.of("skills", "support")
    form = api.client.get(f"/config/skills/{skill}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    plan.ops.call("PATCH", entity_url(plan.primary_id, "skills", skill), json={"name": "Support desk"}, expect=200)
    answer = post(api, f"/config/skills/{skill}", token, version=version, name="Help", media_type="voice")
    assert answer.status_code == 409 and "someone changed this entity after you opened the form" in answer.text
    assert 'value="Help"' in answer.text and stored(plan, "skills", skill)["name"] == "Support desk"


def test_a_user_is_created_with_a_password_and_its_bcp_type(api, plan):
    token = admin(api, plan)
    form = api.client.get("/config/users/new").text
    assert 'id="password" name="password" type="password"' in form and '<select id="bcp_type"' in form
    fields = {"username": "newbie", "email": "newbie@example.com", "first_name": "New", "last_name": "Bie"}
    short = post(api, "/config/users", token, **fields, bcp_type="single", password="short")
    assert short.status_code == 422 and error_of(short.text, "password") == "Password must be 8 to 256 characters"
    assert 'value="short"' not in short.text
    made = post(api, "/config/users", token, **fields, bcp_type="single", password="long-enough-1", is_active="on")
    assert made.status_code == 303
    user_id = int(re.search(r"/config/users/(\d+)", made.headers["location"]).group(1))
    assert stored(plan, "users", user_id)["bcp_type"] == "single"


def test_deactivate_and_reactivate_go_through_the_confirmation(api, plan):
    token = admin(api, plan)
    skill = plan.of("skills", "chat")
    page = api.client.get(f"/config/skills/{skill}").text
    assert "<details>" in page and f'action="/config/skills/{skill}/active"' in page
    assert "Yes, deactivate Chat" in page and "confirm(" not in page
    off = post(api, f"/config/skills/{skill}/active", token, active="false")
    assert off.status_code == 303 and stored(plan, "skills", skill)["is_active"] is False
    shown = api.client.get(off.headers["location"]).text
    assert "Deactivated." in shown and "Yes, reactivate Chat" in shown
    assert post(api, f"/config/skills/{skill}/active", token, active="true").status_code == 303
    assert stored(plan, "skills", skill)["is_active"] is True


def test_a_delete_goes_through_the_confirmation_and_a_referenced_one_is_refused_with_its_referrers(api, plan):
    token = admin(api, plan)
    billing = plan.of("skills", "billing")
    refused = post(api, f"/config/skills/{billing}/delete", token)
    assert refused.status_code == 409 and "Not deleted:" in refused.text
    assert f'<a href="/config/points-of-contact/{plan.of("points-of-contact", "voice")}">Main line</a>' in refused.text
    assert stored(plan, "skills", billing)["name"] == "Billing"
    lonely = plan.make("dispositions", "lonely", {"name": "Lonely"})
    page = api.client.get(f"/config/dispositions/{lonely}").text
    assert f'action="/config/dispositions/{lonely}/delete"' in page and "Yes, delete Lonely" in page
    deleted = post(api, f"/config/dispositions/{lonely}/delete", token)
    assert deleted.status_code == 303 and deleted.headers["location"] == "/config/dispositions?deleted=Lonely"
    assert "Lonely" not in names_of(plan, "dispositions")
    assert "Deleted Lonely." in api.client.get(deleted.headers["location"]).text


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, plan):
    token = admin(api, plan)
    skill = plan.of("skills", "chat")
    wrong = forged(token)
    for sent in (None, wrong):
        assert post(api, "/config/skills", sent, name="Forged", media_type="voice").status_code == 403
        assert post(api, f"/config/skills/{skill}", sent, name="Forged", media_type="voice").status_code == 403
        assert post(api, f"/config/skills/{skill}/active", sent, active="false").status_code == 403
        assert post(api, f"/config/skills/{skill}/delete", sent).status_code == 403
        assert post(api, "/config/business-unit", sent, name="Forged").status_code == 403
    assert "Forged" not in names_of(plan, "skills")
    after = stored(plan, "skills", skill)
    assert (after["name"], after["is_active"]) == ("Chat", True)
