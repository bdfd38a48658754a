"""Logging in and out, bearer tokens, permissions and operator-only routes (SPEC §5, §9)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection

from lifeboat.errors import NotAuthenticated, Unavailable
from lifeboat.services.tenancy import auth
from lifeboat.services.tenancy import login as login_service
from lifeboat.store.directory import SessionRepo
from lifeboat.store.tables import sessions
from tests.conftest import OPERATOR
from tests.examples import PASSWORD, TenantApi, error_of, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


def login(api, username: str, password: str = PASSWORD):
    return api.post(LOGIN, json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- logging in -----------------------------------------------------------------------------


def test_a_user_logs_in_to_its_tenant_and_gets_a_token(shared_api, acme):
    user = acme.create("users")

    response = login(shared_api, user["username"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert body["user"]["id"] == user["id"]
    assert body["tenant"]["id"] == acme.id
    assert "password_hash" not in str(body)


def test_the_username_is_not_case_sensitive_at_login(shared_api, acme):
    user = acme.create("users")

    assert login(shared_api, "  " + user["username"].upper()).status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(shared_api, acme):
    user = acme.create("users")

    wrong = login(shared_api, user["username"], "not the password")
    unknown = login(shared_api, "nobody-at-all", PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown)
    assert error_of(wrong)["code"] == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_an_inactive_user_cannot_log_in(shared_api, acme):
    user = acme.create("users", is_active=False)

    response = login(shared_api, user["username"])

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_credentials"


def test_a_user_without_a_password_cannot_log_in(shared_api, acme):
    payload = acme.payload("users")
    del payload["password"]
    user = acme.post("users", payload).json()

    assert login(shared_api, user["username"], PASSWORD).status_code == 401


def test_an_operator_logs_in_without_a_tenant(shared_api):
    response = login(shared_api, *OPERATOR)

    assert response.status_code == 200
    assert response.json()["tenant"] is None


def test_an_operator_with_a_wrong_password_is_refused(shared_api):
    response = login(shared_api, OPERATOR[0], "wrong password")

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_credentials"


@pytest.mark.parametrize("body", [{}, {"username": "ops"}, {"username": 5, "password": "x"}, []])
def test_a_login_without_username_and_password_strings_is_refused(shared_api, body):
    response = shared_api.post(LOGIN, json=body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_failed"


def test_the_token_is_stored_hashed(shared_api, shared_platform, acme):
    user = acme.create("users")
    token = login(shared_api, user["username"]).json()["token"]

    with shared_platform.directory.read() as conn:
        stored = [row.token_hash for row in conn.execute(sessions.select())]
        assert SessionRepo(conn).get(token) is None
    assert token not in stored
    assert all(len(h) == 64 for h in stored)


# --- tokens -----------------------------------------------------------------------------------


def test_a_route_without_a_token_is_401(acme):
    response = acme.api.get(acme.url("skills"))

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer ", "Basic b3BzOm9wZXJhdG9yLXBhc3N3b3Jk", "garbage"])
def test_a_route_with_a_garbage_token_is_401(acme, header):
    response = acme.api.get(acme.url("skills"), headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["code"] in ("invalid_token", "not_authenticated")


def test_logout_ends_the_token(shared_api, acme):
    user = acme.create("users")
    token = login(shared_api, user["username"]).json()["token"]
    assert shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(token)).status_code == 200

    assert shared_api.post(LOGOUT, headers=bearer(token)).status_code == 204

    after = shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(token))
    assert after.status_code == 401
    assert error_of(after)["code"] == "invalid_token"


def test_logout_ends_only_that_session(shared_api, acme):
    user = acme.create("users")
    first = login(shared_api, user["username"]).json()["token"]
    second = login(shared_api, user["username"]).json()["token"]

    shared_api.post(LOGOUT, headers=bearer(first))

    assert shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(second)).status_code == 200


def test_logout_without_a_token_is_401(shared_api):
    assert shared_api.post(LOGOUT).status_code == 401


def test_an_operator_logout_forgets_the_remembered_token_only_once_it_has_committed(platform):
    """Operator sessions are remembered in the process; a logout whose commit fails must
    leave the token as live here as it still is in the directory."""
    token = login_service.login(platform, *OPERATOR).token
    principal = auth.authenticate(platform, token)
    assert auth.remembered_principal(platform, token) == principal
    write = platform.directory.write

    @contextmanager
    def commit_fails() -> Iterator[Connection]:
        with write() as conn:
            yield conn
            raise Unavailable("The database of directory cannot be reached.", code="directory_unavailable")

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(platform.directory, "write", commit_fails)
        with pytest.raises(Unavailable):
            auth.logout(platform, principal)
    assert auth.remembered_principal(platform, token) == principal
    assert auth.authenticate(platform, token) == principal  # the session is still in the directory

    auth.logout(platform, principal)
    assert auth.remembered_principal(platform, token) is None
    with pytest.raises(NotAuthenticated):
        auth.authenticate(platform, token)


def test_a_deleted_user_loses_its_session(shared_api, acme):
    user = acme.create("users")
    token = login(shared_api, user["username"]).json()["token"]

    acme.delete("users", user["id"])

    assert shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(token)).status_code == 401


def test_a_deactivated_user_loses_its_session(shared_api, acme):
    user = acme.create("users")
    token = login(shared_api, user["username"]).json()["token"]

    acme.patch("users", user["id"], {"is_active": False})

    assert shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(token)).status_code == 401


def test_an_expired_session_is_refused(shared_api, shared_platform, acme, monkeypatch):
    user = acme.create("users")
    monkeypatch.setattr(shared_platform.settings, "session_ttl_minutes", -1)
    token = login(shared_api, user["username"]).json()["token"]

    response = shared_api.get(f"/api/v1/tenants/{acme.id}", headers=bearer(token))

    assert response.status_code == 401
    assert error_of(response)["code"] == "session_expired"


# --- permissions ------------------------------------------------------------------------------


def test_a_user_with_acd_view_reads_skills_but_cannot_create_one(acme):
    viewer = acme.as_user("acd.view")
    acme.create("skills", name="Billing")

    listed = viewer.get("skills")
    created = viewer.post("skills", {"name": "Sales"})

    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()["items"]] == ["Billing"]
    assert created.status_code == 403
    error = error_of(created)
    assert error["code"] == "permission_denied"
    assert error["details"] == {"permission": "acd.edit"}
    assert [s["name"] for s in acme.get("skills").json()["items"]] == ["Billing"]


def test_a_user_without_acd_view_cannot_read_skills(acme):
    agent = acme.as_user("agent")

    response = agent.get("skills")

    assert response.status_code == 403
    assert error_of(response)["details"] == {"permission": "acd.view"}


def test_a_user_without_a_role_can_do_nothing_in_its_tenant(shared_api, acme):
    payload = acme.payload("users", role_id=None)
    user = acme.post("users", payload).json()
    headers = shared_api.login(user["username"], PASSWORD)

    assert shared_api.get(acme.url("skills"), headers=headers).status_code == 403
    assert shared_api.get(f"/api/v1/tenants/{acme.id}", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("type_name", "area"),
    [
        ("business-unit", "acd"),
        ("hours-of-operation", "acd"),
        ("dispositions", "acd"),
        ("skills", "acd"),
        ("agent-settings", "acd"),
        ("points-of-contact", "acd"),
        ("roles", "admin"),
        ("teams", "admin"),
        ("users", "admin"),
        ("files", "studio"),
        ("scripts", "studio"),
    ],
)
def test_each_type_is_guarded_by_the_view_and_edit_permissions_of_its_area(acme, type_name, area):
    other_area = {"acd": "admin", "admin": "studio", "studio": "acd"}[area]
    viewer = acme.as_user(f"{area}.view", f"{other_area}.edit")
    editor = acme.as_user(f"{area}.edit", f"{area}.view")

    assert viewer.get(type_name).status_code == 200
    if type_name == "business-unit":
        write = viewer.api.put(viewer.url(type_name), json={"name": "X"}, headers=viewer.headers)
        allowed = editor.api.put(editor.url(type_name), json={"name": "X"}, headers=editor.headers)
    else:
        write = viewer.post(type_name, {})
        allowed = editor.post(type_name, {})
    assert write.status_code == 403
    assert error_of(write)["details"] == {"permission": f"{area}.edit"}
    assert allowed.status_code in (200, 422)  # past the permission check: the body is judged


def test_edit_without_view_does_not_let_a_user_read(acme):
    editor = acme.as_user("acd.edit")

    assert editor.get("skills").status_code == 403


def test_patch_and_delete_need_the_edit_permission(acme):
    viewer = acme.as_user("acd.view")
    skill = acme.create("skills")

    assert viewer.patch("skills", skill["id"], {"name": "Hijacked"}).status_code == 403
    assert viewer.delete("skills", skill["id"]).status_code == 403
    assert acme.get("skills", skill["id"]).json() == skill


def test_a_role_change_applies_to_a_session_already_open(acme):
    viewer = acme.as_user("acd.view")
    role_id = viewer.role["id"]
    assert viewer.post("skills", {"name": "Sales"}).status_code == 403

    acme.patch("roles", role_id, {"permissions": ["acd.view", "acd.edit"]})

    assert viewer.post("skills", {"name": "Sales"}).status_code == 201


def test_a_deactivated_role_grants_nothing(acme):
    viewer = acme.as_user("acd.view")
    role_id = viewer.role["id"]

    acme.patch("roles", role_id, {"is_active": False})

    assert viewer.get("skills").status_code == 403


def test_a_user_with_admin_edit_may_create_users_who_then_log_in(shared_api, acme):
    admin = acme.as_user("admin.edit", "admin.view")

    created = admin.post(
        "users",
        {
            "username": "newhire-" + str(acme.id),
            "email": "n@example.com",
            "first_name": "New",
            "last_name": "Hire",
            "password": PASSWORD,
        },
    )

    assert created.status_code == 201, created.text
    assert login(shared_api, created.json()["username"]).status_code == 200


# --- operator-only routes ---------------------------------------------------------------------


def test_a_user_cannot_create_a_tenant(shared_api, acme):
    admin = acme.as_user(*sorted({"admin.edit", "admin.view", "acd.edit", "acd.view", "bcp.enablement.edit"}))

    response = shared_api.post(
        "/api/v1/tenants", json={"name": tenant_name("Rogue"), "region": "na1"}, headers=admin.headers
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "operator_required"
    listed = shared_api.get("/api/v1/tenants?limit=1000", headers=shared_api.operator()).json()["items"]
    names = [t["name"] for t in listed]
    assert not any(n.startswith("Rogue") for n in names)


def test_an_operator_creates_a_tenant_in_a_region(shared_api):
    name = tenant_name("Initech")

    response = shared_api.post("/api/v1/tenants", json={"name": name, "region": "eu1"}, headers=shared_api.operator())

    assert response.status_code == 201
    tenant = response.json()
    assert (tenant["name"], tenant["region"]) == (name, "eu1")
    assert shared_api.get(f"/api/v1/tenants/{tenant['id']}", headers=shared_api.operator()).json() == tenant


def test_a_tenant_in_an_unknown_region_is_refused(shared_api):
    response = shared_api.post(
        "/api/v1/tenants", json={"name": tenant_name("Nowhere"), "region": "mars1"}, headers=shared_api.operator()
    )

    assert response.status_code == 422
    assert {e["field"]: e["code"] for e in error_of(response)["details"]["errors"]} == {"region": "region_not_found"}


def test_two_tenants_cannot_share_a_name(shared_api, acme):
    response = shared_api.post(
        "/api/v1/tenants", json={"name": acme.tenant["name"], "region": "eu1"}, headers=shared_api.operator()
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "tenant_name_taken"


def test_a_user_lists_only_its_own_tenant_and_an_operator_lists_all(shared_api, acme):
    other = new_tenant(shared_api, tenant_name("Other"))
    user = acme.as_user("acd.view")

    mine = shared_api.get("/api/v1/tenants", headers=user.headers).json()
    everything = shared_api.get("/api/v1/tenants?limit=1000", headers=shared_api.operator()).json()

    assert [t["id"] for t in mine["items"]] == [acme.id] and mine["total"] == 1
    assert {acme.id, other.id} <= {t["id"] for t in everything["items"]}


def test_regions_and_status_are_public(shared_api):
    regions = shared_api.get("/api/v1/regions")
    status = shared_api.get("/api/v1/status")

    assert regions.status_code == status.status_code == 200
    assert [r["name"] for r in regions.json()["items"]] == ["na1", "eu1"]
    assert {r["name"]: r["status"] for r in status.json()["regions"]} == {"na1": "up", "eu1": "up"}
