"""Every entity type of SPEC §2 through /api/v1/tenants/{t}/{type}, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.store.region import EntityRepo
from tests.examples import (
    CHANGES,
    FILE_BYTES,
    PASSWORD,
    TenantApi,
    error_of,
    example,
    field_errors,
    new_tenant,
    unique,
)
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

COLLECTIONS = [name for name, kind in ENTITY_TYPES.items() if not kind.singleton]
WRITE_ONLY = {name: {f.name for f in kind.fields if f.write_only} for name, kind in ENTITY_TYPES.items()}


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


@pytest.fixture
def globex(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Globex"), "eu1")


def test_the_examples_cover_every_entity_type():
    assert set(ENTITY_TYPES) == set(COLLECTIONS) | {"business-unit"}
    assert set(CHANGES) == set(COLLECTIONS)


# --- create, read, list, update, delete ---------------------------------------------------


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_a_created_entity_reads_back_with_the_fields_it_was_given(acme, type_name):
    payload = acme.payload(type_name)

    created = acme.post(type_name, payload)

    assert created.status_code == 201, created.text
    body = created.json()
    assert isinstance(body["id"], int) and body["id"] > 0
    assert body["created_at"] and body["updated_at"]
    for field, value in payload.items():
        if field not in WRITE_ONLY[type_name]:
            assert body[field] == value, field
    fetched = acme.get(type_name, body["id"])
    assert fetched.status_code == 200
    assert {k: v for k, v in fetched.json().items() if k not in WRITE_ONLY[type_name]} == body


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_a_created_entity_is_listed(acme, type_name):
    created = acme.create(type_name)

    listing = acme.get(type_name)

    assert listing.status_code == 200
    assert created in listing.json()["items"]


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_patch_changes_only_the_fields_it_names(acme, type_name):
    created = acme.create(type_name)
    field, value = CHANGES[type_name]

    patched = acme.patch(type_name, created["id"], {field: value})

    assert patched.status_code == 200, patched.text
    expected = {**created, field: value}
    assert {k: v for k, v in patched.json().items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"
    }
    assert patched.json()["updated_at"] >= created["updated_at"]
    assert acme.get(type_name, created["id"]).json()[field] == value


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_a_deleted_entity_is_gone(acme, type_name):
    created = acme.create(type_name)

    deleted = acme.delete(type_name, created["id"])

    assert deleted.status_code == 204
    missing = acme.get(type_name, created["id"])
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "entity_not_found"
    assert created["id"] not in [e["id"] for e in acme.get(type_name).json()["items"]]


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_an_unknown_id_is_not_found_for_read_update_and_delete(acme, type_name):
    for response in (acme.get(type_name, 999), acme.patch(type_name, 999, {}), acme.delete(type_name, 999)):
        assert response.status_code == 404
        assert error_of(response)["code"] == "entity_not_found"


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_an_id_of_another_type_is_not_found(acme, type_name):
    other = next(t for t in COLLECTIONS if t != type_name)
    foreign = acme.create(other)

    assert acme.get(type_name, foreign["id"]).status_code == 404
    assert acme.delete(type_name, foreign["id"]).status_code == 404
    assert acme.get(other, foreign["id"]).status_code == 200


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_every_required_field_is_named_when_missing(acme, type_name):
    required = {f.name for f in ENTITY_TYPES[type_name].fields if f.required}

    response = acme.post(type_name, {})

    assert field_errors(response) == dict.fromkeys(required, "required")


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_an_unknown_field_is_refused(acme, type_name):
    response = acme.post(type_name, acme.payload(type_name, colour="blue"))

    assert field_errors(response) == {"colour": "unknown_field"}
    assert acme.get(type_name).json()["total"] == 0


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_a_body_that_is_not_an_object_is_refused(acme, type_name):
    response = acme.post(type_name, ["not", "an", "object"])

    assert response.status_code == 422
    assert error_of(response)["code"] == "not_an_object"


# --- the business unit --------------------------------------------------------------------


def test_a_new_tenant_has_a_business_unit_named_after_it(acme):
    response = acme.get("business-unit")

    assert response.status_code == 200
    assert response.json()["name"] == acme.tenant["name"]
    assert response.json()["time_zone"] == "UTC"


def test_put_replaces_the_business_unit(acme):
    before = acme.get("business-unit").json()
    payload = example("business-unit", acme.need)

    put = acme.api.put(acme.url("business-unit"), json=payload, headers=acme.headers)

    assert put.status_code == 200, put.text
    assert put.json()["id"] == before["id"]
    assert {k: put.json()[k] for k in payload} == payload
    assert acme.get("business-unit").json() == put.json()


def test_put_resets_the_business_unit_fields_it_leaves_out(acme):
    acme.api.put(acme.url("business-unit"), json={"name": "Paris", "time_zone": "Europe/Paris"}, headers=acme.headers)

    put = acme.api.put(acme.url("business-unit"), json={"name": "Plain"}, headers=acme.headers)

    assert put.json()["time_zone"] == "UTC"


def test_the_business_unit_needs_a_valid_time_zone(acme):
    put = acme.api.put(
        acme.url("business-unit"), json={"name": "Acme", "time_zone": "Mars/Olympus"}, headers=acme.headers
    )

    assert field_errors(put) == {"time_zone": "bad_time_zone"}
    assert acme.get("business-unit").json()["time_zone"] == "UTC"


def test_the_business_unit_cannot_be_created_twice_or_deleted(acme):
    assert acme.post("business-unit", {"name": "Second"}).status_code == 405
    assert acme.api.delete(acme.url("business-unit"), headers=acme.headers).status_code == 405
    assert acme.get("business-unit").json()["name"] == acme.tenant["name"]


# --- lists --------------------------------------------------------------------------------


def test_a_list_is_paged_with_limit_and_offset_and_gives_the_total(acme):
    ids = [acme.create("dispositions")["id"] for _ in range(5)]

    page = acme.api.get(acme.url("dispositions") + "?limit=2&offset=1", headers=acme.headers)

    assert page.status_code == 200
    assert page.json()["total"] == 5
    assert [e["id"] for e in page.json()["items"]] == sorted(ids)[1:3]


def test_pages_walk_the_whole_list_once(acme):
    ids = {acme.create("dispositions")["id"] for _ in range(5)}

    seen = []
    for offset in range(0, 6, 2):
        page = acme.api.get(acme.url("dispositions") + f"?limit=2&offset={offset}", headers=acme.headers).json()
        seen.extend(e["id"] for e in page["items"])

    assert sorted(seen) == sorted(ids)


def test_an_offset_past_the_end_gives_an_empty_page_with_the_total(acme):
    acme.create("dispositions")

    page = acme.api.get(acme.url("dispositions") + "?offset=10", headers=acme.headers).json()

    assert page == {"items": [], "total": 1}


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=ten"])
def test_a_bad_paging_parameter_is_refused(acme, query):
    response = acme.api.get(acme.url("dispositions") + "?" + query, headers=acme.headers)

    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_failed"


# --- PATCH --------------------------------------------------------------------------------


def test_patch_with_a_bad_value_changes_nothing(acme):
    skill = acme.create("skills")

    response = acme.patch("skills", skill["id"], {"name": "New name", "media_type": "fax"})

    assert field_errors(response) == {"media_type": "bad_choice"}
    assert acme.get("skills", skill["id"]).json() == skill


def test_patch_can_clear_an_optional_reference(acme):
    skill = acme.create("skills")

    patched = acme.patch("skills", skill["id"], {"hours_of_operation_id": None})

    assert patched.status_code == 200
    assert patched.json()["hours_of_operation_id"] is None


def test_patch_ignores_the_read_only_fields_of_a_read_entity(acme):
    skill = acme.create("skills")

    patched = acme.patch("skills", skill["id"], {**skill, "id": 1, "name": "Renamed"})

    assert patched.status_code == 200, patched.text
    assert patched.json()["id"] == skill["id"]
    assert patched.json()["name"] == "Renamed"


def test_patching_a_file_path_keeps_its_content_size_and_checksum(acme):
    file = acme.create("files")

    patched = acme.patch("files", file["id"], {"path": "prompts/goodbye.wav"})

    assert patched.status_code == 200, patched.text
    fetched = acme.get("files", file["id"]).json()
    assert fetched["path"] == "prompts/goodbye.wav"
    assert fetched["size"] == len(FILE_BYTES)
    assert fetched["sha256"] == hashlib.sha256(FILE_BYTES).hexdigest()
    assert base64.b64decode(fetched["content"]) == FILE_BYTES


def test_patching_a_file_content_updates_its_size_and_checksum(acme):
    file = acme.create("files")
    new = b"another recording"

    acme.patch("files", file["id"], {"content": base64.b64encode(new).decode()})

    fetched = acme.get("files", file["id"]).json()
    assert (fetched["size"], fetched["sha256"]) == (len(new), hashlib.sha256(new).hexdigest())
    assert base64.b64decode(fetched["content"]) == new


# --- DELETE and references ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("referrer", "field", "target"),
    [
        ("skills", "hours_of_operation_id", "hours-of-operation"),
        ("skills", "disposition_ids", "dispositions"),
        ("users", "role_id", "roles"),
        ("users", "team_id", "teams"),
        ("teams", "lead_user_id", "users"),
        ("points-of-contact", "skill_id", "skills"),
        ("agent-settings", "skills", "skills"),
    ],
)
def test_an_entity_still_referenced_cannot_be_deleted(acme, referrer, field, target):
    target_id = acme.need(target)
    value = {"disposition_ids": [target_id], "skills": [{"skill_id": target_id, "proficiency": 3}]}.get(
        field, target_id
    )
    source = acme.create(referrer, **{field: value})

    response = acme.delete(target, target_id)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "entity_in_use"
    assert {"type": referrer, "id": source["id"]} in error["details"]["referenced_by"]
    assert acme.get(target, target_id).status_code == 200


def test_an_entity_can_be_deleted_once_nothing_refers_to_it(acme):
    skill = acme.create("skills")
    acme.patch("skills", skill["id"], {"hours_of_operation_id": None})

    assert acme.delete("hours-of-operation", skill["hours_of_operation_id"]).status_code == 204


def test_deleting_a_user_removes_its_agent_settings(acme):
    settings = acme.create("agent-settings")

    deleted = acme.delete("users", settings["user_id"])

    assert deleted.status_code == 204
    assert acme.get("agent-settings", settings["id"]).status_code == 404
    assert acme.get("agent-settings").json()["total"] == 0


# --- validation rules with their stable codes ----------------------------------------------


def test_voice_point_of_contact_needs_an_e164_address(acme):
    for address in ("5551234567", "+0551234567", "+1 555 123 4567", "+1555", "+1555123456789012"):
        response = acme.post("points-of-contact", acme.payload("points-of-contact", address=address))
        assert field_errors(response) == {"address": "bad_e164"}, address


def test_a_digital_point_of_contact_may_have_a_non_phone_address(acme):
    response = acme.post(
        "points-of-contact", acme.payload("points-of-contact", channel="chat", address="web-chat-main")
    )

    assert response.status_code == 201, response.text


def test_an_email_point_of_contact_needs_an_email_address(acme):
    response = acme.post("points-of-contact", acme.payload("points-of-contact", channel="email", address="support"))

    assert field_errors(response) == {"address": "bad_email"}


def test_turning_a_chat_point_of_contact_into_voice_checks_its_address(acme):
    chat = acme.create("points-of-contact", channel="chat", address="web-chat-main")

    response = acme.patch("points-of-contact", chat["id"], {"channel": "voice"})

    assert field_errors(response) == {"address": "bad_e164"}


@pytest.mark.parametrize("zone", ["EST5", "America/Nowhere", "utc+2", "", 5])
def test_hours_of_operation_need_an_iana_time_zone(acme, zone):
    response = acme.post("hours-of-operation", acme.payload("hours-of-operation", time_zone=zone))

    assert field_errors(response) == {"time_zone": "bad_time_zone"}


@pytest.mark.parametrize(
    "slot",
    [
        {"day": "mon", "open": "8:00", "close": "17:00"},
        {"day": "mon", "open": "08:00", "close": "25:00"},
        {"day": "mon", "open": "08:60", "close": "17:00"},
        {"day": "mon", "open": "17:00", "close": "08:00"},
        {"day": "mon", "open": "09:00", "close": "09:00"},
    ],
)
def test_opening_hours_must_be_hh_mm_with_open_before_close(acme, slot):
    response = acme.post("hours-of-operation", acme.payload("hours-of-operation", weekly=[slot]))

    assert field_errors(response) == {"weekly": "bad_time"}


def test_opening_hours_may_run_until_midnight(acme):
    created = acme.create("hours-of-operation", weekly=[{"day": "fri", "open": "18:00", "close": "24:00"}])

    assert created["weekly"] == [{"day": "fri", "open": "18:00", "close": "24:00"}]


def test_opening_hours_need_a_known_day(acme):
    response = acme.post(
        "hours-of-operation",
        acme.payload("hours-of-operation", weekly=[{"day": "monday", "open": "08:00", "close": "17:00"}]),
    )

    assert field_errors(response) == {"weekly": "bad_day"}


def test_holidays_need_a_real_date(acme):
    response = acme.post(
        "hours-of-operation", acme.payload("hours-of-operation", holidays=[{"date": "2025-02-30", "name": "Nope"}])
    )

    assert field_errors(response) == {"holidays": "bad_date"}


@pytest.mark.parametrize("proficiency", [0, 21, "5", 2.5])
def test_agent_skill_proficiency_is_from_1_to_20(acme, proficiency):
    skill_id = acme.need("skills")

    response = acme.post(
        "agent-settings", acme.payload("agent-settings", skills=[{"skill_id": skill_id, "proficiency": proficiency}])
    )

    assert field_errors(response) == {"skills": "bad_proficiency"}


@pytest.mark.parametrize("proficiency", [1, 20])
def test_agent_skill_proficiency_accepts_both_ends(acme, proficiency):
    skill_id = acme.need("skills")

    created = acme.create("agent-settings", skills=[{"skill_id": skill_id, "proficiency": proficiency}])

    assert created["skills"] == [{"skill_id": skill_id, "proficiency": proficiency}]


@pytest.mark.parametrize("bcp_type", ["none", "single", "multiple"])
def test_a_user_takes_each_bcp_type(acme, bcp_type):
    assert acme.create("users", bcp_type=bcp_type)["bcp_type"] == bcp_type


def test_a_user_has_bcp_type_none_unless_told(acme):
    assert acme.create("users")["bcp_type"] == "none"


@pytest.mark.parametrize("bcp_type", ["all", "", None, "SINGLE"])
def test_a_user_bcp_type_outside_none_single_multiple_is_refused(acme, bcp_type):
    response = acme.post("users", acme.payload("users", bcp_type=bcp_type))

    assert field_errors(response) == {"bcp_type": "bad_choice"}


def test_a_role_takes_only_known_permissions(acme):
    response = acme.post("roles", acme.payload("roles", permissions=["acd.view", "everything"]))

    assert field_errors(response) == {"permissions": "unknown_permission"}


@pytest.mark.parametrize("content", ["not base64!", "QUJ", 42])
def test_file_content_must_be_base64(acme, content):
    response = acme.post("files", acme.payload("files", content=content))

    assert field_errors(response) == {"content": "not_base64"}


def test_file_content_over_the_limit_is_too_large(acme, shared_platform, monkeypatch):
    monkeypatch.setattr(shared_platform.settings, "max_file_bytes", 1024)

    response = acme.post("files", acme.payload("files", content=base64.b64encode(b"x" * 1025).decode()))

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "file_too_large"
    assert error["details"] == {"size": 1025, "limit": 1024}
    assert acme.get("files").json()["total"] == 0


def test_a_file_reports_its_size_and_checksum_and_returns_its_bytes(acme):
    created = acme.create("files")

    assert created["size"] == len(FILE_BYTES)
    assert created["sha256"] == hashlib.sha256(FILE_BYTES).hexdigest()
    assert "content" not in created
    assert base64.b64decode(acme.get("files", created["id"]).json()["content"]) == FILE_BYTES


def test_several_problems_are_reported_together(acme):
    response = acme.post("users", {"username": "a b", "email": "nope", "first_name": "", "bcp_type": "x"})

    assert field_errors(response) == {
        "username": "bad_username",
        "email": "bad_email",
        "first_name": "bad_length",
        "last_name": "required",
        "bcp_type": "bad_choice",
    }


# --- natural keys and references ------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "key"),
    [
        ("hours-of-operation", {"name": "Office"}),
        ("dispositions", {"name": "Resolved"}),
        ("skills", {"name": "Billing"}),
        ("roles", {"name": "Supervisor"}),
        ("teams", {"name": "Blue"}),
        ("points-of-contact", {"channel": "voice", "address": "+15551230000"}),
        ("files", {"path": "prompts/hello.wav"}),
        ("scripts", {"path": "Inbound/Main"}),
    ],
)
def test_a_second_entity_with_the_same_natural_key_is_a_conflict(acme, type_name, key):
    first = acme.create(type_name, **key)

    response = acme.post(type_name, acme.payload(type_name, **key))

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "duplicate_natural_key"
    assert error["details"]["existing_id"] == first["id"]
    assert acme.get(type_name).json()["total"] == 1


def test_a_second_agent_settings_for_the_same_user_is_a_conflict(acme):
    first = acme.create("agent-settings")

    response = acme.post("agent-settings", acme.payload("agent-settings", user_id=first["user_id"]))

    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_natural_key"


def test_renaming_onto_an_existing_natural_key_is_a_conflict(acme):
    acme.create("skills", name="Billing")
    other = acme.create("skills", name="Sales")

    response = acme.patch("skills", other["id"], {"name": "Billing"})

    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_natural_key"
    assert acme.get("skills", other["id"]).json()["name"] == "Sales"


def test_the_same_natural_key_is_fine_in_another_tenant(acme, globex):
    acme.create("skills", name="Billing")

    assert globex.post("skills", globex.payload("skills", name="Billing")).status_code == 201


def test_a_reference_to_another_tenants_entity_is_unknown(acme, globex):
    their_skill = globex.need("skills")

    response = acme.post("points-of-contact", acme.payload("points-of-contact", skill_id=their_skill))

    assert field_errors(response) == {"skill_id": "unknown_reference"}
    assert acme.get("points-of-contact").json()["total"] == 0


@pytest.mark.parametrize(
    ("type_name", "field", "wrap"),
    [
        ("skills", "hours_of_operation_id", lambda i: i),
        ("skills", "disposition_ids", lambda i: [i]),
        ("users", "role_id", lambda i: i),
        ("teams", "lead_user_id", lambda i: i),
        ("agent-settings", "user_id", lambda i: i),
        ("agent-settings", "skills", lambda i: [{"skill_id": i, "proficiency": 1}]),
        ("points-of-contact", "skill_id", lambda i: i),
    ],
)
def test_every_reference_must_name_an_entity_of_its_type_in_the_same_tenant(acme, globex, type_name, field, wrap):
    target = next(link.target for link in ENTITY_TYPES[type_name].links if link.field == field)
    cases = {"another tenant's": globex.need(target), "a missing": 987654321, "another type's": acme.need("files")}

    for what, entity_id in cases.items():
        response = acme.post(type_name, acme.payload(type_name, **{field: wrap(entity_id)}))
        assert field_errors(response) == {field: "unknown_reference"}, what


def test_a_patch_to_another_tenants_entity_is_unknown(acme, globex):
    skill = acme.create("skills")

    response = acme.patch("skills", skill["id"], {"disposition_ids": [globex.need("dispositions")]})

    assert field_errors(response) == {"disposition_ids": "unknown_reference"}


# --- users and passwords ---------------------------------------------------------------------


def test_a_password_is_never_returned(acme):
    created = acme.create("users")

    answers = [
        created,
        acme.get("users", created["id"]).json(),
        acme.get("users").json(),
        acme.patch("users", created["id"], {"last_name": "Byron"}).json(),
    ]

    for answer in answers:
        assert "password" not in str(answer)
        assert "$argon2" not in str(answer)


def test_a_password_is_stored_as_an_argon2id_hash(acme, shared_platform):
    created = acme.create("users")

    region = shared_platform.region("na1")
    with region.db.read() as conn:
        stored = EntityRepo(conn, region.id_block).get(acme.id, "users", created["id"])
    assert "password" not in stored.data
    assert stored.data["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in str(stored.data)


def test_a_user_logs_in_with_the_password_it_was_given(acme, globex):
    user = acme.create("users")

    assert (
        acme.api.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}).status_code
        == 200
    )


def test_patching_other_fields_keeps_the_password(acme, globex):
    user = acme.create("users")

    acme.patch("users", user["id"], {"email": "new@example.com"})

    assert (
        acme.api.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}).status_code
        == 200
    )


def test_patching_the_password_replaces_it(acme, globex):
    user = acme.create("users")

    acme.patch("users", user["id"], {"password": "a brand new secret"})

    old = acme.api.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD})
    new = acme.api.post("/api/v1/auth/login", json={"username": user["username"], "password": "a brand new secret"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_a_short_password_is_refused(acme):
    response = acme.post("users", acme.payload("users", password="short"))

    assert field_errors(response) == {"password": "weak_password"}


def test_a_username_is_stored_in_lower_case(acme):
    assert acme.create("users", username="Ada.Lovelace")["username"] == "ada.lovelace"


def test_a_username_is_unique_across_tenants(acme, globex):
    alice = unique("alice")
    acme.create("users", username=alice)

    response = globex.post("users", globex.payload("users", username=alice.upper()))

    assert response.status_code == 409
    assert error_of(response)["code"] == "username_taken"
    assert globex.get("users").json()["total"] == 0


def test_a_username_is_unique_within_a_tenant(acme):
    alice = unique("alice")
    acme.create("users", username=alice)

    response = acme.post("users", acme.payload("users", username=alice))

    assert response.status_code == 409
    assert error_of(response)["code"] == "username_taken"


def test_an_operator_name_cannot_be_a_username(acme):
    response = acme.post("users", acme.payload("users", username="ops"))

    assert response.status_code == 409
    assert error_of(response)["code"] == "username_taken"


def test_a_deleted_users_name_is_free_again(acme, globex):
    alice = unique("alice")
    user = acme.create("users", username=alice)
    acme.delete("users", user["id"])

    assert globex.post("users", globex.payload("users", username=alice)).status_code == 201


def test_a_renamed_user_logs_in_with_the_new_name_and_frees_the_old_one(acme, globex):
    alice = unique("alice")
    user = acme.create("users", username=alice)

    renamed = acme.patch("users", user["id"], {"username": alice + ".smith"})

    assert renamed.status_code == 200, renamed.text
    assert (
        acme.api.post("/api/v1/auth/login", json={"username": alice + ".smith", "password": PASSWORD}).status_code
        == 200
    )
    assert acme.api.post("/api/v1/auth/login", json={"username": alice, "password": PASSWORD}).status_code == 401
    assert globex.post("users", globex.payload("users", username=alice)).status_code == 201


def test_a_refused_user_does_not_hold_its_username(acme, globex):
    alice = unique("alice")
    refused = acme.post("users", acme.payload("users", username=alice, role_id=987654321))
    assert refused.status_code == 422

    assert globex.post("users", globex.payload("users", username=alice)).status_code == 201


# --- bodies that are not JSON ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "patch"])
def test_malformed_json_is_a_400_with_a_stable_code(acme, method):
    skill = acme.create("skills")
    url = acme.url("skills") if method == "post" else acme.url("skills", skill["id"])

    response = getattr(acme.api, method)(
        url, content=b'{"name": "Billing",', headers={**acme.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"
    assert acme.get("skills", skill["id"]).json() == skill


def test_a_refused_user_delete_keeps_its_agent_settings(acme):
    settings = acme.create("agent-settings")
    acme.create("teams", lead_user_id=settings["user_id"])

    response = acme.delete("users", settings["user_id"])

    assert response.status_code == 409
    assert acme.get("agent-settings", settings["id"]).json() == settings
