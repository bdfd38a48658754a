"""The web console over HTTP, without a browser (tests/browser drives it in chromium): its
session is an API session, CSRF refusals change nothing, security headers, 404 pages."""

from __future__ import annotations

import re

import pytest

from tests.bcp_fixture import PASSWORD, bearer, build_plan


@pytest.fixture
def plan(api, platform):
    return build_plan(api, platform, bcp_only=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def forged(token: str) -> str:
    """The token with its last character changed: never the token itself."""
    return token[:-1] + ("1" if token[-1] == "0" else "0")


def console_login(api, username: str, tenant_id: int | None = None) -> str:
    """Log in through the form; returns the CSRF token of the first page after it."""
    token = csrf_of(api.client.get("/login").text)
    form = {"csrf_token": token, "username": username, "password": PASSWORD}
    if tenant_id is not None:
        form["tenant_id"] = str(tenant_id)
    answer = api.client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(api.client.get("/").text)


def test_pages_carry_a_csp_without_unsafe_inline_and_refuse_framing(api):
    answer = api.client.get("/login")
    assert answer.status_code == 200
    assert "unsafe-inline" not in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script>" not in answer.text and "style=" not in answer.text


def test_the_console_session_is_an_api_session_in_a_strict_httponly_cookie(api, plan):
    console_login(api, plan.usernames["single"])
    cookie = next(c for c in api.client.cookies.jar if c.name == "lifeboat_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    assert not cookie.secure  # plain http here; Secure when served over HTTPS
    assert api.get(f"/api/v1/tenants/{plan.primary_id}/skills", headers=bearer(cookie.value)).status_code == 200


def test_a_login_form_without_its_token_is_refused(api, plan):
    answer = api.client.post(
        "/login", data={"username": plan.usernames["single"], "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "lifeboat_session" not in answer.headers.get("set-cookie", "")


def test_a_switch_without_the_csrf_token_is_refused_and_changes_nothing(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    before = plan.describe()
    for form in ({}, {"csrf_token": "forged"}, {"csrf_token": forged(token)}):
        answer = api.client.post("/bcp/switchover", data={**form, "to": "bcp", "passkey": plan.passkey})
        assert answer.status_code == 403
    assert plan.describe()["epoch"] == before["epoch"] and plan.describe()["active_side"] == "primary"


def test_a_switch_from_the_console_ends_the_session_and_the_login_page_says_why(api, plan):
    token = console_login(api, plan.usernames["admin"], plan.primary_id)
    answer = api.client.post(
        "/bcp/switchover", data={"csrf_token": token, "to": "bcp", "passkey": plan.passkey}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?reason=switched")
    assert plan.describe()["active_side"] == "bcp"
    assert "ended every session" in api.client.get(answer.headers["location"]).text


def test_a_switch_elsewhere_sends_the_console_back_to_login(api, plan):
    console_login(api, plan.usernames["admin"], plan.primary_id)
    plan.switch("bcp")
    answer = api.client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?reason=ended"


def test_the_overview_names_who_switched_last_even_after_wrong_passkeys_and_other_changes(api, plan):
    plan.switch("bcp")
    plan.switch("primary")
    for n in range(3):  # newer records than the switch: refused tries and other changes
        plan.switch("bcp", passkey=f"WRONG-{n}")
        plan.make("skills", f"after{n}", {"name": f"After {n}", "media_type": "voice"})
    console_login(api, plan.usernames["admin"], plan.primary_id)
    page = api.client.get("/").text
    assert "by operator:" in page and "not shown" not in page


def test_logout_ends_the_api_session_too(api, plan):
    token = console_login(api, plan.usernames["single"])
    session = api.client.cookies["lifeboat_session"]
    assert api.client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert api.get(f"/api/v1/tenants/{plan.primary_id}/skills", headers=bearer(session)).status_code == 401


def test_an_agent_gets_403_pages_and_an_unknown_page_is_404(api, plan):
    console_login(api, plan.usernames["single"])
    answer = api.client.get("/bcp/switchover")
    assert answer.status_code == 403 and "Not allowed" in answer.text
    assert "/bcp/switchover" not in api.client.get("/").text
    answer = api.client.get("/no/such/page")
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert api.client.get("/api/v1/no-such-route").json()["error"]["code"] == "not_found"
