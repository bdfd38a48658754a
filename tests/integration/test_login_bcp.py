"""Global login by BCP type (SPEC §5) over ``POST /api/v1/auth/login``, on SQLite and PostgreSQL.

The whole table: each user kind (``none``, ``single``, ``multiple``, and a user created
directly in the BCP tenant) × the active side (primary, BCP, and a tenant with no plan) ×
the tenant asked for (none, the primary, the BCP tenant). A login that enters a tenant
must give a token of that tenant: the answer names it, and the token reads that tenant's
data and no other's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.bcp_fixture import AGENT_PERMISSIONS, PASSWORD, SyncedPlan, bearer, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, Http, entity_url, error_code, new_tenant

LOGIN = f"{API}/auth/login"


@dataclass
class Standalone:
    """A tenant with no BCP plan and one user of each BCP type."""

    tenant: dict[str, Any]
    usernames: dict[str, str]
    user_ids: dict[str, int]


@pytest.fixture(scope="module")
def plans(shared_api, shared_platform) -> dict[str, SyncedPlan]:
    """Two synced plans: one with the primary active, one switched to BCP."""
    on_primary = build_plan(shared_api, shared_platform)
    on_bcp = build_plan(shared_api, shared_platform)
    assert on_bcp.switch("bcp").status_code == 200
    return {"primary": on_primary, "bcp": on_bcp}


@pytest.fixture(scope="module")
def standalone(shared_api) -> Standalone:
    ops = Http(shared_api, shared_api.operator())
    tenant = new_tenant(ops, "na1")
    role = ops.call(
        "POST", entity_url(tenant["id"], "roles"), json={"name": "Agent", "permissions": AGENT_PERMISSIONS}, expect=201
    )
    usernames, ids = {}, {}
    for bcp_type in ("none", "single", "multiple"):
        usernames[bcp_type] = f"solo{bcp_type}{tenant['id']}"
        ids[bcp_type] = ops.call(
            "POST",
            entity_url(tenant["id"], "users"),
            expect=201,
            json={
                "username": usernames[bcp_type],
                "email": f"{usernames[bcp_type]}@example.com",
                "first_name": "Solo",
                "last_name": "User",
                "role_id": role["id"],
                "bcp_type": bcp_type,
                "password": PASSWORD,
            },
        )["id"]
    ops.call("POST", entity_url(tenant["id"], "skills"), json={"name": "Solo skill"}, expect=201)
    return Standalone(tenant, usernames, ids)


def login(api, username: str, password: str = PASSWORD, tenant_id: int | None = None):
    body: dict[str, Any] = {"username": username, "password": password}
    if tenant_id is not None:
        body["tenant_id"] = tenant_id
    return api.post(LOGIN, json=body)


def assert_token_of(api, answer: dict[str, Any], tenant_id: int, other_tenant_id: int | None) -> None:
    """The token reads its tenant (the tenant itself and its skills) and nothing of the other."""
    headers = bearer(answer["token"])
    listed = api.get(f"{API}/tenants", headers=headers)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [tenant_id]
    skills = api.get(entity_url(tenant_id, "skills"), headers=headers)
    assert skills.status_code == 200, skills.text
    assert skills.json()["total"] >= 1
    if other_tenant_id is not None:
        assert api.get(f"{API}/tenants/{other_tenant_id}", headers=headers).status_code == 404
        assert api.get(entity_url(other_tenant_id, "skills"), headers=headers).status_code == 404


# --------------------------------------------------------------------------- the table

P, B = "primary", "bcp"
USER_KINDS = ("none", "single", "multiple", "bcp_only")
# (user, active side, tenant asked for) -> where the login goes
PLAN_TABLE = {
    ("none", P, None): P,
    ("none", P, P): P,
    ("none", P, B): "denied",
    ("none", B, None): "denied",
    ("none", B, P): "denied",
    ("none", B, B): "denied",
    ("single", P, None): P,
    ("single", P, P): P,
    ("single", P, B): "denied",
    ("single", B, None): B,
    ("single", B, P): "denied",
    ("single", B, B): B,
    ("multiple", P, None): "choose",
    ("multiple", P, P): P,
    ("multiple", P, B): B,
    ("multiple", B, None): "choose",
    ("multiple", B, P): P,
    ("multiple", B, B): B,
    ("bcp_only", P, None): B,
    ("bcp_only", P, P): "denied",
    ("bcp_only", P, B): B,
    ("bcp_only", B, None): B,
    ("bcp_only", B, P): "denied",
    ("bcp_only", B, B): B,
}


def test_the_table_has_every_row():
    assert len(PLAN_TABLE) == len(USER_KINDS) * 2 * 3


@pytest.mark.parametrize(
    ("user", "active", "asked"),
    sorted(PLAN_TABLE, key=str),
    ids=[f"{u}-active_{a}-asks_{r or 'any'}" for u, a, r in sorted(PLAN_TABLE, key=str)],
)
def test_login_with_a_plan(shared_api, plans, user, active, asked):
    plan = plans[active]
    tenant_of = {P: plan.primary_id, B: plan.bcp_id}
    expected = PLAN_TABLE[(user, active, asked)]

    response = plan.login(user, tenant_of[asked] if asked else None)

    if expected == "denied":
        assert response.status_code == 403, response.text
        assert error_code(response) == "bcp_access_denied"
        assert "token" not in response.text
    elif expected == "choose":
        assert response.status_code == 200, response.text
        assert response.json() == {
            "choose": [
                {
                    "tenant_id": plan.primary_id,
                    "name": plan.primary["name"],
                    "kind": P,
                    "region": "na1",
                    "active": active == P,
                },
                {"tenant_id": plan.bcp_id, "name": plan.bcp["name"], "kind": B, "region": "eu1", "active": active == B},
            ]
        }
    else:
        assert response.status_code == 200, response.text
        answer = response.json()
        tenant = plan.primary if expected == P else plan.bcp
        assert answer["tenant"] == {"id": tenant["id"], "name": tenant["name"], "region": tenant["region"]}
        assert answer["user"]["username"] == plan.usernames[user]
        if user == "bcp_only":
            assert answer["user"]["id"] == plan.bcp_only_id
        else:
            record = plan.of("users", user) if expected == P else plan.bcp_of("users", user)
            assert answer["user"]["id"] == record
        assert_token_of(shared_api, answer, tenant["id"], tenant_of[P if expected == B else B])


@pytest.mark.parametrize("bcp_type", ["none", "single", "multiple"])
@pytest.mark.parametrize("asked", [None, "own", "other"])
def test_login_without_a_plan_enters_the_only_tenant(shared_api, standalone, plans, bcp_type, asked):
    """No BCP tenant: every type enters its tenant; asking for any other tenant is refused."""
    other = plans["primary"].bcp_id
    tenant_id = {None: None, "own": standalone.tenant["id"], "other": other}[asked]

    response = login(shared_api, standalone.usernames[bcp_type], tenant_id=tenant_id)

    if asked == "other":
        assert response.status_code == 403, response.text
        assert error_code(response) == "bcp_access_denied"
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["tenant"]["id"] == standalone.tenant["id"]
    assert answer["user"]["id"] == standalone.user_ids[bcp_type]
    assert_token_of(shared_api, answer, standalone.tenant["id"], other)


# --------------------------------------------------------------------------- wrong passwords


@pytest.mark.parametrize("active", [P, B])
@pytest.mark.parametrize("user", USER_KINDS)
@pytest.mark.parametrize("asked", [None, P, B, "foreign"])
def test_a_wrong_password_is_401_whatever_the_user_side_and_tenant_asked(plans, user, active, asked):
    """Bad credentials come first: no refusal or tenant choice reveals anything without the password."""
    plan = plans[active]
    tenant_id = {None: None, P: plan.primary_id, B: plan.bcp_id, "foreign": plans[B if active == P else P].primary_id}[
        asked
    ]

    response = plan.login(user, tenant_id, password="not-the-password")

    assert response.status_code == 401, response.text
    assert error_code(response) == "invalid_credentials"
    assert "choose" not in response.json()


def test_a_login_failure_is_in_the_audit_log(plans):
    plan = plans[P]
    plan.login("single", password="not-the-password")
    plan.login("none", plan.bcp_id)

    audit = plan.ops.get(f"{API}/tenants/{plan.primary_id}/audit", limit=50)["items"]

    failures = [(a["actor"], a["details"].get("reason")) for a in audit if a["action"] == "login.failed"]
    assert (f"login:{plan.usernames['single']}", "wrong_password") in failures
    assert (f"login:{plan.usernames['none']}", "bcp_access_denied") in failures


# --------------------------------------------------------------------------- rules follow the plan


def test_after_a_switch_the_rules_flip_and_after_a_revert_they_flip_back(api, platform):
    plan = build_plan(api, platform)

    def where(user: str) -> str:
        response = plan.login(user)
        if response.status_code == 403:
            assert error_code(response) == "bcp_access_denied"
            return "denied"
        assert response.status_code == 200, response.text
        body = response.json()
        return "choose" if "choose" in body else {plan.primary_id: P, plan.bcp_id: B}[body["tenant"]["id"]]

    def table() -> dict[str, str]:
        return {user: where(user) for user in ("none", "single", "multiple", "admin", "bcp_only")}

    assert table() == {"none": P, "single": P, "multiple": "choose", "admin": "choose", "bcp_only": B}
    assert plan.switch("bcp").status_code == 200
    assert table() == {"none": "denied", "single": B, "multiple": "choose", "admin": "choose", "bcp_only": B}
    assert [c["active"] for c in plan.login("multiple").json()["choose"]] == [False, True]
    assert plan.switch("primary").status_code == 200
    assert table() == {"none": P, "single": P, "multiple": "choose", "admin": "choose", "bcp_only": B}
    assert [c["active"] for c in plan.login("multiple").json()["choose"]] == [True, False]


def test_the_password_is_checked_against_the_record_of_the_tenant_entered(api, platform):
    """A new password set in the primary opens the BCP tenant only once it has been synced there."""
    plan = build_plan(api, platform)
    new_password = "a-brand-new-password"
    plan.ops.call(
        "PATCH", entity_url(plan.primary_id, "users", plan.of("users", "multiple")), json={"password": new_password}
    )

    assert plan.login("multiple", plan.primary_id, password=new_password).status_code == 200
    assert plan.login("multiple", plan.bcp_id, password=new_password).status_code == 401

    plan.sync()

    entered = plan.login("multiple", plan.bcp_id, password=new_password)
    assert entered.status_code == 200, entered.text
    assert entered.json()["tenant"]["id"] == plan.bcp_id


def test_a_user_not_synced_yet_cannot_enter_bcp(api, platform):
    plan = build_plan(api, platform, bcp_only=False)
    newcomer = f"newcomer{plan.primary_id}"
    plan.ops.call(
        "POST",
        entity_url(plan.primary_id, "users"),
        expect=201,
        json={
            "username": newcomer,
            "email": f"{newcomer}@example.com",
            "first_name": "New",
            "last_name": "Comer",
            "role_id": plan.of("roles", "agent"),
            "bcp_type": "multiple",
            "password": PASSWORD,
        },
    )

    assert login(api, newcomer, tenant_id=plan.primary_id).status_code == 200
    refused = login(api, newcomer, tenant_id=plan.bcp_id)
    assert refused.status_code == 403 and error_code(refused) == "bcp_access_denied"

    plan.sync()

    assert login(api, newcomer, tenant_id=plan.bcp_id).json()["tenant"]["id"] == plan.bcp_id


def test_a_bcp_type_set_on_one_user_takes_effect_at_the_next_login(api, platform):
    plan = build_plan(api, platform)
    assert plan.switch("bcp").status_code == 200
    assert plan.login("none").status_code == 403

    # The active tenant's record decides: set it there (the BCP copy), as an admin would in an emergency.
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "users", plan.bcp_of("users", "none")), json={"bcp_type": "single"})

    entered = plan.login("none")
    assert entered.status_code == 200, entered.text
    assert entered.json()["tenant"]["id"] == plan.bcp_id
