"""No one grants or reaches a permission they do not hold (``domain.permissions``), through
the API, on SQLite and PostgreSQL: role create and edit, role assignment to oneself and to
others, password, username, deactivation and deletion of a stronger user, the BCP-type CSV
and the bulk loader. Each refusal is 403 ``permission_escalation`` and changes nothing."""

from __future__ import annotations

import pytest

from lifeboat.domain.access import Principal
from lifeboat.errors import Forbidden
from lifeboat.services.entities.bulk import Ref, load_entities
from lifeboat.services.tenancy.tenants import create_tenant
from tests.examples import PASSWORD, TenantApi, error_of, new_tenant, unique
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

ADMIN = ("admin.edit", "admin.view")
EVERYTHING = [
    "acd.edit",
    "acd.view",
    "admin.edit",
    "admin.view",
    "agent",
    "bcp.enablement.edit",
    "bcp.enablement.view",
    "bcp.sync.edit",
    "bcp.sync.view",
    "studio.edit",
    "studio.view",
]
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


@pytest.fixture
def admin(acme) -> TenantApi:
    """A user administrator: admin.edit and admin.view, nothing of ACD."""
    return acme.as_user(*ADMIN)


@pytest.fixture
def boss(acme) -> dict:
    """A stronger administrator, with every permission."""
    role = acme.create("roles", permissions=EVERYTHING)
    return acme.create("users", role_id=role["id"])


def refused(response) -> dict:
    assert response.status_code == 403, response.text
    error = error_of(response)
    assert error["code"] == "permission_escalation"
    return error


def logs_in(api, username: str, password: str = PASSWORD) -> bool:
    return api.post(LOGIN, json={"username": username, "password": password}).status_code == 200


# --- the attack of the report -----------------------------------------------------------------


def test_an_admin_cannot_make_itself_a_role_with_every_permission_and_read_skills(acme, admin):
    roles_before = acme.get("roles").json()

    created = admin.post("roles", {"name": "Everything", "permissions": EVERYTHING})

    error = refused(created)
    assert error["details"]["reason"] == "grants_more"
    assert error["details"]["missing_permissions"] == sorted(set(EVERYTHING) - set(ADMIN))
    assert acme.get("roles").json() == roles_before
    assert admin.get("skills").status_code == 403


def test_an_admin_cannot_take_over_a_stronger_administrator_by_resetting_its_password(shared_api, admin, boss):
    response = admin.patch("users", boss["id"], {"password": "taken over 123"})

    assert refused(response)["details"]["reason"] == "target_stronger"
    assert not logs_in(shared_api, boss["username"], "taken over 123")
    assert logs_in(shared_api, boss["username"])


# --- roles ------------------------------------------------------------------------------------


def test_an_admin_creates_a_role_within_its_own_permissions(admin):
    assert admin.post("roles", {"name": unique("Viewers "), "permissions": ["admin.view"]}).status_code == 201


def test_an_admin_cannot_add_a_permission_it_lacks_to_a_role(acme, admin):
    role = admin.post("roles", {"name": unique("Viewers "), "permissions": ["admin.view"]}).json()

    refused(admin.patch("roles", role["id"], {"permissions": ["admin.view", "acd.edit"]}))

    assert acme.get("roles", role["id"]).json()["permissions"] == ["admin.view"]
    assert admin.patch("roles", role["id"], {"permissions": ["admin.edit", "admin.view"]}).status_code == 200


def test_an_admin_cannot_grow_its_own_role(acme, admin):
    refused(admin.patch("roles", admin.role["id"], {"permissions": [*ADMIN, "acd.view"]}))

    assert acme.get("roles", admin.role["id"]).json()["permissions"] == sorted(ADMIN)
    assert admin.get("skills").status_code == 403


@pytest.mark.parametrize("change", [{"permissions": ["admin.view"]}, {"is_active": False}, {"name": "Renamed"}])
def test_an_admin_cannot_change_a_stronger_role(acme, admin, boss, change):
    before = acme.get("roles", boss["role_id"]).json()

    refused(admin.patch("roles", boss["role_id"], change))

    assert acme.get("roles", boss["role_id"]).json() == before


def test_an_admin_cannot_delete_a_stronger_role_but_may_delete_a_weaker_one(acme, admin):
    strong = acme.create("roles", permissions=EVERYTHING)
    weak = acme.create("roles", permissions=["admin.view"])

    refused(admin.delete("roles", strong["id"]))

    assert acme.get("roles", strong["id"]).status_code == 200
    assert admin.delete("roles", weak["id"]).status_code == 204


# --- giving roles -----------------------------------------------------------------------------


def test_an_admin_cannot_give_itself_a_stronger_role(acme, admin, boss):
    refused(admin.patch("users", admin.user["id"], {"role_id": boss["role_id"]}))

    assert acme.get("users", admin.user["id"]).json()["role_id"] == admin.role["id"]
    assert admin.get("skills").status_code == 403


def test_an_admin_cannot_give_another_user_a_stronger_role(acme, admin, boss):
    agent = acme.create("users", role_id=None)

    refused(admin.patch("users", agent["id"], {"role_id": boss["role_id"]}))
    refused(admin.post("users", acme.payload("users", role_id=boss["role_id"])))

    assert acme.get("users", agent["id"]).json()["role_id"] is None


def test_a_refused_new_user_leaves_its_username_free(shared_api, acme, admin, boss):
    payload = acme.payload("users", role_id=boss["role_id"])

    refused(admin.post("users", payload))

    assert acme.post("users", payload).status_code == 201


def test_an_admin_gives_roles_within_its_own_permissions_to_itself_and_others(acme, admin):
    viewers = admin.post("roles", {"name": unique("Viewers "), "permissions": ["admin.view"]}).json()
    agent = acme.create("users", role_id=None)

    assert admin.patch("users", agent["id"], {"role_id": viewers["id"]}).status_code == 200
    assert admin.post("users", acme.payload("users", role_id=viewers["id"])).status_code == 201
    assert admin.patch("users", admin.user["id"], {"role_id": viewers["id"]}).status_code == 200  # demoting itself


def test_a_role_that_is_not_a_subset_is_stronger_even_when_it_is_smaller(acme, admin):
    agents = acme.create("roles", permissions=["agent"])
    agent = acme.create("users", role_id=None)

    refused(admin.patch("users", agent["id"], {"role_id": agents["id"]}))


# --- stronger users ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"password": "new password 123"},
        {"username": "renamed-boss"},
        {"role_id": None},
        {"is_active": False},
        {"bcp_type": "multiple"},
        {"email": "attacker@example.com"},
    ],
)
def test_an_admin_cannot_change_a_stronger_user(acme, admin, boss, change):
    refused(admin.patch("users", boss["id"], change))

    assert acme.get("users", boss["id"]).json() == boss


def test_an_admin_cannot_delete_a_stronger_user(acme, admin, boss):
    refused(admin.delete("users", boss["id"]))

    assert acme.get("users", boss["id"]).status_code == 200


def test_an_admin_changes_the_password_and_username_of_an_equal_or_weaker_user(shared_api, acme, admin):
    peer = acme.create("users", role_id=admin.role["id"])
    weaker = acme.create("users", role_id=None)
    new_name = unique("renamed")

    assert admin.patch("users", peer["id"], {"password": "peer password 123"}).status_code == 200
    assert admin.patch("users", weaker["id"], {"username": new_name}).status_code == 200

    assert logs_in(shared_api, peer["username"], "peer password 123")
    assert logs_in(shared_api, new_name)


def test_an_operator_may_do_all_of_it(shared_api, acme, boss):
    role = acme.post("roles", {"name": unique("All "), "permissions": EVERYTHING})
    assert role.status_code == 201
    assert acme.patch("users", boss["id"], {"password": "operator set 123"}).status_code == 200
    assert logs_in(shared_api, boss["username"], "operator set 123")


# --- the BCP-type CSV and the bulk loader -----------------------------------------------------


def test_the_bcp_type_csv_leaves_stronger_users_as_they_are(acme, admin, boss):
    weaker = acme.create("users", role_id=None)
    body = (
        f"username,bcp_type\n{boss['username']},none\n{weaker['username']},multiple\n{admin.user['username']},single\n"
    )
    acme_boss = acme.patch("users", boss["id"], {"bcp_type": "multiple"}).json()

    answer = admin.api.post(
        f"/api/v1/tenants/{acme.id}/users/bcp-types",
        content=body.encode(),
        headers={**admin.headers, "Content-Type": "text/csv"},
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [(r["line"], r["username"], r["code"]) for r in report["bad_rows"]] == [
        (2, boss["username"], "permission_escalation")
    ]
    assert (report["applied"], report["unchanged"], report["errors"]) == (2, 0, 1)
    assert acme.get("users", boss["id"]).json()["bcp_type"] == acme_boss["bcp_type"] == "multiple"
    assert acme.get("users", weaker["id"]).json()["bcp_type"] == "multiple"


def test_the_bulk_loader_refuses_roles_and_users_stronger_than_the_loader(shared_platform):
    tenant = create_tenant(shared_platform, Principal("operator", 0, "test"), tenant_name("Bulk"), "na1")
    loader = Principal("user", 1, "loader", tenant.id, frozenset(ADMIN))
    strong = [
        ("roles", "role:all", {"name": "All", "permissions": EVERYTHING}),
        (
            "users",
            "user:x",
            {
                "username": unique("bulkx"),
                "email": "x@example.com",
                "first_name": "X",
                "last_name": "Y",
                "role_id": Ref("role:all"),
            },
        ),
    ]

    with pytest.raises(Forbidden) as refusal:
        load_entities(shared_platform, loader, tenant.id, strong)

    assert refusal.value.code == "permission_escalation"
    weak = [
        ("roles", "role:view", {"name": "View", "permissions": ["admin.view"]}),
        (*strong[1][:2], {**strong[1][2], "role_id": Ref("role:view")}),
    ]
    assert load_entities(shared_platform, loader, tenant.id, weak).created == 2
