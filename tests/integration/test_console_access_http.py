"""The console's BCP access and audit log pages over HTTP (SQLite and PostgreSQL): the API's
permission checks, CSRF refusals that change nothing, inline and CSV changes, search, paging
that keeps the filters, and the audit filters (the console's and GET /audit's)."""

from __future__ import annotations

import re

import pytest

from lifeboat.console.pages import access as access_page
from lifeboat.console.pages import audit as audit_page
from tests.bcp_fixture import PASSWORD, build_plan
from tests.integration.test_console_http import console_login, forged
from tests.sync_fixture import API, entity_url

HTMX = {"HX-Request": "true"}


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False, synced=False)


def bcp_type_of(plan, label: str) -> str:
    return plan.ops.get(entity_url(plan.primary_id, "users", plan.of("users", label)))["bcp_type"]


def add_viewer(plan) -> str:
    """A user who may read users (admin.view) but not change them."""
    role = plan.make("roles", "viewer", {"name": "Viewer", "permissions": ["admin.view"]})
    username = f"viewer{plan.primary_id}"
    plan.make(
        "users",
        "viewer",
        {
            "username": username,
            "email": f"{username}@example.com",
            "first_name": "View",
            "last_name": "Only",
            "role_id": role,
            "password": PASSWORD,
        },
    )
    return username


def selects(html: str) -> list[str]:
    return re.findall(r'aria-label="BCP type for ([^"]+)"', html)


def test_the_page_lists_the_employees_with_a_labelled_select_each_and_the_counts(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = api.client.get("/bcp/access")
    assert answer.status_code == 200
    assert sorted(selects(answer.text)) == sorted(plan.usernames[k] for k in ("none", "single", "multiple", "admin"))
    assert 'id="bcp-counts"' in answer.text
    counts = re.search(r'id="bcp-counts".*?</div>', answer.text, re.S).group(0)
    assert re.findall(r'<span class="big">(\d+)</span>', counts) == ["1", "2", "3"]  # single, multiple, total
    assert 'name="csv_file"' in answer.text and ">CSV file</label>" in answer.text


def test_an_inline_change_saves_and_answers_the_row_and_the_new_counts(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    user_id = plan.of("users", "none")
    answer = api.client.post(
        f"/bcp/access/users/{user_id}",
        data={"bcp_type": "single", "back": "/bcp/access"},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    assert "Saved" in answer.text and 'hx-swap-oob="true"' in answer.text and "<html" not in answer.text
    assert bcp_type_of(plan, "none") == "single"


def test_without_javascript_a_row_saves_and_goes_back_to_the_same_page_of_the_list(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    back = "/bcp/access?q=single&page=1"
    answer = api.client.post(
        f"/bcp/access/users/{plan.of('users', 'single')}",
        follow_redirects=False,
        data={"csrf_token": token, "bcp_type": "multiple", "back": back},
    )
    assert answer.status_code == 303 and answer.headers["location"] == back
    assert bcp_type_of(plan, "single") == "multiple"
    elsewhere = api.client.post(
        f"/bcp/access/users/{plan.of('users', 'single')}",
        follow_redirects=False,
        data={"csrf_token": token, "bcp_type": "single", "back": "https://evil.example/"},
    )
    assert elsewhere.headers["location"] == "/bcp/access"


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    user_id = plan.of("users", "none")
    for headers, form in (
        ({}, {}),
        (HTMX, {}),
        ({**HTMX, "X-CSRF-Token": "forged"}, {}),
        ({}, {"csrf_token": forged(token)}),
    ):
        answer = api.client.post(f"/bcp/access/users/{user_id}", data={**form, "bcp_type": "multiple"}, headers=headers)
        assert answer.status_code == 403
    upload = api.client.post(
        "/bcp/access/upload", files={"csv_file": ("a.csv", f"username,bcp_type\n{plan.usernames['none']},single\n")}
    )
    assert upload.status_code == 403
    assert bcp_type_of(plan, "none") == "none"


def test_a_viewer_sees_the_list_read_only_and_every_post_is_403(api, plan):
    token = console_login(api, add_viewer(plan), plan.primary_id)
    answer = api.client.get("/bcp/access")
    assert answer.status_code == 200
    assert plan.usernames["none"] in selects(answer.text)
    assert "disabled" in answer.text and "/bcp/access/upload" not in answer.text and "hx-post" not in answer.text
    user_id = plan.of("users", "none")
    assert (
        api.client.post(f"/bcp/access/users/{user_id}", data={"csrf_token": token, "bcp_type": "single"}).status_code
        == 403
    )
    inline = api.client.post(
        f"/bcp/access/users/{user_id}", data={"bcp_type": "single"}, headers={**HTMX, "X-CSRF-Token": token}
    )
    assert inline.status_code == 403 and 'role="alert"' in inline.text
    upload = api.client.post(
        "/bcp/access/upload",
        data={"csrf_token": token},
        files={"csv_file": ("a.csv", f"username,bcp_type\n{plan.usernames['none']},single\n")},
    )
    assert upload.status_code == 403
    assert bcp_type_of(plan, "none") == "none"


def test_an_agent_gets_403_on_both_pages(api, plan):
    console_login(api, plan.usernames["single"])
    for path in ("/bcp/access", "/audit"):
        answer = api.client.get(path)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path


def test_the_csv_upload_applies_the_good_lines_and_lists_each_bad_one_by_its_line(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    body = (
        f"username,bcp_type\n{plan.usernames['none']},multiple\nnobody-here,single\n"
        f"{plan.usernames['single']},sometimes\n"
    )
    answer = api.client.post("/bcp/access/upload", data={"csrf_token": token}, files={"csv_file": ("types.csv", body)})
    assert answer.status_code == 200
    bad = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td></tr>", answer.text)
    assert [(line, name) for line, name, _ in bad] == [("3", "nobody-here"), ("4", plan.usernames["single"])]
    assert "no user" in bad[0][2] and "must be one of" in bad[1][2]
    assert bcp_type_of(plan, "none") == "multiple" and bcp_type_of(plan, "single") == "single"
    malformed = api.client.post(
        "/bcp/access/upload", data={"csrf_token": token}, files={"csv_file": ("x.csv", "name,type\nx,y\n")}
    )
    assert malformed.status_code == 400 and 'role="alert"' in malformed.text and "header" in malformed.text


def test_search_and_the_bcp_type_filter_narrow_the_list_and_paging_keeps_them(api, plan, monkeypatch):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    assert selects(api.client.get("/bcp/access", params={"q": "SINGLE"}).text) == [plan.usernames["single"]]
    multiple = selects(api.client.get("/bcp/access", params={"bcp_type": "multiple"}).text)
    assert sorted(multiple) == sorted([plan.usernames["multiple"], plan.usernames["admin"]])
    assert "No employee matches" in api.client.get("/bcp/access", params={"q": "zzz%_"}).text
    monkeypatch.setattr(access_page, "PAGE_SIZE", 1)
    first = api.client.get("/bcp/access", params={"bcp_type": "multiple"}).text
    assert len(selects(first)) == 1 and "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert next_link == "/bcp/access?bcp_type=multiple&page=2"
    second = api.client.get(next_link).text
    assert selects(second) != selects(first) and selects(second)[0] in multiple and "Page 2 of 2" in second


def test_the_audit_log_filters_by_action_and_actor_and_pages_with_them(api, plan, monkeypatch):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    for label in ("none", "single"):
        api.client.post(
            f"/bcp/access/users/{plan.of('users', label)}",
            data={"bcp_type": "multiple"},
            headers={**HTMX, "X-CSRF-Token": token},
        )
    everything = api.client.get("/audit").text
    assert "users.create" in everything or "users.update" in everything
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 1)
    only = api.client.get("/audit", params={"actor": plan.usernames["admin"], "entity_type": "users"}).text
    assert "2 records match the filters" in only and "bcp_type" in only and "Page 1 of 2" in only
    next_link = re.search(r'href="([^"]+)" rel="next"', only).group(1).replace("&amp;", "&")
    assert f"actor={plan.usernames['admin']}" in next_link and "entity_type=users" in next_link
    assert "Page 2 of 2" in api.client.get(next_link).text
    assert "No record matches" in api.client.get("/audit", params={"action": "alerts"}).text
    bad_date = api.client.get("/audit", params={"since": "yesterday"})
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text


def test_get_audit_takes_the_same_filters(api, plan):
    url = f"{API}/tenants/{plan.primary_id}/audit"
    everything = plan.ops.get(url)
    users = plan.ops.get(url, action="users")
    assert 0 < users["total"] < everything["total"]
    assert all(r["action"].startswith("users.") for r in users["items"])
    assert plan.ops.get(url, action="user")["total"] == 0  # a prefix of whole words only
    assert plan.ops.get(url, since="2999-01-01T00:00")["total"] == 0
    assert plan.ops.get(url, until="2999-01-01T00:00:00Z")["total"] == everything["total"]
    assert plan.ops.get(url, entity_type="skills", actor="nobody")["total"] == 0


def test_get_audit_refuses_a_time_that_is_not_iso_8601(api, plan):
    url = f"{API}/tenants/{plan.primary_id}/audit"
    for odd in ("0.5", "1700000000", "2999-01-01", "yesterday"):  # pydantic alone reads numbers as epoch seconds
        answer = plan.ops.request("GET", url, params={"until": odd})
        assert answer.status_code == 422, (odd, answer.text)
    assert plan.ops.request("GET", url, params={"since": "2026-11-30 08:00:00+01:00"}).status_code == 200
