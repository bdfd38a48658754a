"""The audit log (SPEC §8): every configuration write with who, when, what, before and after,
and never a secret or a file's bytes."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from tests.examples import (
    CHANGES,
    FILE_BYTES,
    PASSWORD,
    TenantApi,
    error_of,
    new_tenant,
)
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

COLLECTIONS = [name for name, kind in ENTITY_TYPES.items() if not kind.singleton]


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


def audit(tenant: TenantApi, query: str = "limit=1000") -> dict:
    response = tenant.api.get(f"/api/v1/tenants/{tenant.id}/audit?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def entries_for(tenant: TenantApi, entity_id: int) -> list[dict]:
    """The entries of one entity, oldest first."""
    return [e for e in reversed(audit(tenant)["items"]) if e["entity_id"] == entity_id]


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_create_update_and_delete_are_recorded_with_actor_before_and_after(acme, type_name):
    created = acme.create(type_name)
    field, value = CHANGES[type_name]
    acme.patch(type_name, created["id"], {field: value})
    acme.delete(type_name, created["id"])

    create, update, delete = entries_for(acme, created["id"])
    assert [e["action"] for e in (create, update, delete)] == [
        f"{type_name}.{a}" for a in ("create", "update", "delete")
    ]
    assert {e["actor"] for e in (create, update, delete)} == {"operator:ops"}
    assert {e["entity_type"] for e in (create, update, delete)} == {type_name}
    assert create["before"] is None and create["after"][field] == created[field]
    assert update["before"][field] == created[field] and update["after"][field] == value
    assert delete["before"][field] == value and delete["after"] is None


def test_an_entry_says_when_it_happened(acme):
    skill = acme.create("skills")

    (entry,) = entries_for(acme, skill["id"])

    at = datetime.fromisoformat(entry["at"])
    assert at.tzinfo is not None
    assert abs((at - datetime.fromisoformat(skill["created_at"])).total_seconds()) < 60


def test_the_actor_is_the_user_who_wrote(acme):
    editor = acme.as_user("acd.edit", "acd.view")

    skill = editor.create("skills")

    (entry,) = entries_for(acme, skill["id"])
    assert entry["actor"] == f"user:{editor.user['username']}"


def test_the_business_unit_change_is_recorded(acme):
    before = acme.get("business-unit").json()

    acme.api.put(acme.url("business-unit"), json={"name": "Renamed", "time_zone": "Asia/Tokyo"}, headers=acme.headers)

    entry = entries_for(acme, before["id"])[-1]
    assert entry["action"] == "business-unit.update"
    assert (entry["before"]["time_zone"], entry["after"]["time_zone"]) == ("UTC", "Asia/Tokyo")


def test_deleting_a_user_records_the_removal_of_its_agent_settings_too(acme):
    settings = acme.create("agent-settings")

    acme.delete("users", settings["user_id"])

    assert [e["action"] for e in entries_for(acme, settings["id"])][-1] == "agent-settings.delete"
    assert [e["action"] for e in entries_for(acme, settings["user_id"])][-1] == "users.delete"


def test_the_tenant_creation_is_in_its_audit_log(acme):
    entries = audit(acme)["items"]

    assert [e for e in entries if e["action"] == "tenant.create" and e["actor"] == "operator:ops"]


def test_refused_writes_are_not_recorded_as_changes(acme):
    skill = acme.create("skills", name="Billing")
    count = audit(acme)["total"]

    acme.post("skills", {"name": "Billing"})  # duplicate: 409
    acme.post("skills", {"name": "Sales", "media_type": "fax"})  # invalid: 422
    acme.patch("skills", skill["id"], {"media_type": "fax"})

    assert audit(acme)["total"] == count


def test_a_write_that_changes_nothing_is_not_recorded(acme):
    skill = acme.create("skills")
    count = audit(acme)["total"]

    acme.patch("skills", skill["id"], {"name": skill["name"]})

    assert audit(acme)["total"] == count


# --- what is never in the log -------------------------------------------------------------------


def test_no_password_or_password_hash_is_in_the_log(acme):
    user = acme.create("users")
    acme.patch("users", user["id"], {"password": "another long secret"})
    acme.delete("users", user["id"])

    text = json.dumps(audit(acme))
    assert "password" not in text
    assert "$argon2" not in text
    assert PASSWORD not in text and "another long secret" not in text


def test_no_file_bytes_are_in_the_log_but_size_and_checksum_are(acme):
    file = acme.create("files")
    new_bytes = b"a second recording of the welcome prompt"
    acme.patch("files", file["id"], {"content": base64.b64encode(new_bytes).decode()})

    entries = entries_for(acme, file["id"])
    text = json.dumps(entries)
    for data in (FILE_BYTES, new_bytes):
        assert base64.b64encode(data).decode() not in text
        assert data.decode("latin-1") not in text
    assert "content" not in entries[0]["after"]
    assert (entries[1]["before"]["size"], entries[1]["after"]["size"]) == (len(FILE_BYTES), len(new_bytes))


def test_a_failed_login_is_recorded_in_the_users_tenant_without_the_password(shared_api, acme):
    user = acme.create("users")

    shared_api.post("/api/v1/auth/login", json={"username": user["username"], "password": "guessing-wrong"})

    failures = [e for e in audit(acme)["items"] if e["action"].startswith("login")]
    assert failures and failures[0]["details"]["reason"] == "wrong_password"
    assert user["username"] in failures[0]["actor"]
    assert "guessing-wrong" not in json.dumps(failures)


# --- reading the log ---------------------------------------------------------------------------


def test_the_log_is_newest_first_and_paged_with_a_total(acme):
    ids = [acme.create("dispositions")["id"] for _ in range(4)]
    everything = audit(acme)

    page = audit(acme, "limit=2&offset=1")

    assert page["total"] == everything["total"]
    assert page["items"] == everything["items"][1:3]
    newest = [e["entity_id"] for e in everything["items"] if e["action"] == "dispositions.create"]
    assert newest == list(reversed(ids))


def test_pages_of_the_log_cover_it_once(acme):
    for _ in range(3):
        acme.create("dispositions")
    total = audit(acme)["total"]

    seen = []
    for offset in range(0, total, 2):
        seen.extend(audit(acme, f"limit=2&offset={offset}")["items"])

    assert seen == audit(acme)["items"]


def test_reading_the_log_needs_admin_view(acme):
    agent = acme.as_user("acd.view", "acd.edit")
    admin = acme.as_user("admin.view")

    refused = agent.api.get(f"/api/v1/tenants/{acme.id}/audit", headers=agent.headers)
    allowed = admin.api.get(f"/api/v1/tenants/{acme.id}/audit", headers=admin.headers)

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "permission_denied"
    assert allowed.status_code == 200
