"""Every error a client can cause is ``{"error": {code, message, details}}`` with the right
status and a stable code (SPEC §9) — never a 500, whatever the body or path holds."""

from __future__ import annotations

import pytest

from lifeboat.ids import MAX_ID
from tests.examples import TenantApi, error_of, field_errors, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


def raw(tenant: TenantApi, method: str, url: str, body: bytes, content_type: str = "application/json"):
    return tenant.api.request(method, url, content=body, headers={**tenant.headers, "Content-Type": content_type})


# --- malformed JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"name": "Billing",', b"{name: 'Billing'}", b"{", b'{"a": 1} trailing'])
def test_malformed_json_is_400_malformed_json_on_every_kind_of_write(acme, body):
    skill = acme.create("skills")
    writes = [
        ("POST", acme.url("skills")),
        ("PATCH", acme.url("skills", skill["id"])),
        ("PUT", acme.url("business-unit")),
        ("POST", "/api/v1/tenants"),
        ("POST", "/api/v1/auth/login"),
    ]

    for method, url in writes:
        response = raw(acme, method, url, body)
        assert response.status_code == 400, (method, url, response.text)
        assert error_of(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"null", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"Billing"', "application/json"),
        (b"name=Billing", "text/plain"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(acme, body, content_type):
    response = raw(acme, "POST", acme.url("skills"), body, content_type)

    assert response.status_code in (400, 415, 422)
    assert error_of(response)["code"] in ("not_an_object", "malformed_json", "unsupported_media_type")
    assert acme.get("skills").json()["total"] == 0


def test_an_empty_body_is_refused(acme):
    response = raw(acme, "POST", acme.url("skills"), b"")

    assert response.status_code in (400, 422)
    assert error_of(response)["code"] in ("validation_failed", "malformed_json")


# --- paths -----------------------------------------------------------------------------------------


def test_an_unknown_path_is_404_in_the_error_shape(shared_api):
    response = shared_api.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_unknown_entity_type_is_404(acme):
    response = acme.get("widgets")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_method_a_path_does_not_take_is_405_in_the_error_shape(acme):
    response = acme.api.put(acme.url("skills"), json={}, headers=acme.headers)

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_an_id_that_is_not_a_number_is_422_naming_the_parameter(acme):
    response = acme.api.get("/api/v1/tenants/abc/skills", headers=acme.headers)

    assert response.status_code == 422
    assert [e["field"] for e in error_of(response)["details"]["errors"]] == ["tenant_id"]


@pytest.mark.parametrize("entity_id", [0, -5, MAX_ID + 1, 2**63, 10**30])
def test_an_entity_id_outside_the_id_space_is_simply_not_found(acme, entity_id):
    for response in (
        acme.get("skills", entity_id),
        acme.patch("skills", entity_id, {"name": "x"}),
        acme.delete("skills", entity_id),
    ):
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "entity_not_found"


@pytest.mark.parametrize("tenant_id", [0, -5, MAX_ID + 1, 2**63, 10**30])
def test_a_tenant_id_outside_the_id_space_is_simply_not_found(shared_api, tenant_id):
    operator = shared_api.operator()

    for response in (
        shared_api.get(f"/api/v1/tenants/{tenant_id}", headers=operator),
        shared_api.get(f"/api/v1/tenants/{tenant_id}/skills", headers=operator),
    ):
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "tenant_not_found"


@pytest.mark.parametrize("value", [MAX_ID + 1, 2**63, 10**30])
def test_a_reference_outside_the_id_space_is_refused(acme, value):
    single = acme.post("skills", {"name": "Billing", "hours_of_operation_id": value})
    many = acme.post("skills", {"name": "Billing", "disposition_ids": [value]})
    nested = acme.post("agent-settings", acme.payload("agent-settings", skills=[{"skill_id": value, "proficiency": 1}]))

    assert field_errors(single) == {"hours_of_operation_id": "bad_reference"}
    assert field_errors(many) == {"disposition_ids": "bad_reference"}
    assert field_errors(nested) == {"skills": "bad_reference"}


# --- text the databases cannot store ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["Bill\\u0000ing", "\\ud800", "Bill\\udfffing"], ids=["nul", "lone-high", "lone-low"])
def test_a_name_with_a_nul_or_an_unpaired_surrogate_is_refused(acme, text):
    response = raw(acme, "POST", acme.url("skills"), f'{{"name": "{text}"}}'.encode())

    assert field_errors(response) == {"name": "bad_text"}
    assert acme.get("skills").json()["total"] == 0


@pytest.mark.parametrize("text", ["a\\u0000b", "\\ud800"], ids=["nul", "surrogate"])
def test_text_the_database_cannot_store_is_refused_inside_objects_and_scripts(acme, text):
    settings = raw(
        acme, "PUT", acme.url("business-unit"), f'{{"name": "Acme", "settings": {{"greeting": "{text}"}}}}'.encode()
    )
    script = raw(
        acme,
        "POST",
        acme.url("scripts"),
        f'{{"path": "Inbound/Main", "content": {{"actions": {{"1": {{"name": "{text}"}}}}}}}}'.encode(),
    )

    assert field_errors(settings) == {"settings": "bad_text"}
    assert field_errors(script) == {"content": "bad_text"}


def test_a_tenant_name_with_a_nul_is_refused(shared_api):
    response = shared_api.request(
        "POST",
        "/api/v1/tenants",
        content=b'{"name": "Bad\\u0000Name", "region": "na1"}',
        headers={**shared_api.operator(), **JSON},
    )

    assert field_errors(response) == {"name": "bad_text"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "a\\u0000b", "password": "long enough"}',
        b'{"username": "\\ud800", "password": "long enough"}',
        b'{"username": "ops", "password": "\\ud800\\udc00\\ud800"}',
    ],
    ids=["nul-username", "surrogate-username", "surrogate-password"],
)
def test_a_login_with_text_no_account_can_hold_is_refused_as_invalid(shared_api, body):
    response = shared_api.request("POST", "/api/v1/auth/login", content=body, headers=JSON)

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "validation_failed"


def test_unicode_text_that_is_valid_is_kept_exactly(acme):
    name = "Facturación — 請求 🚀"

    created = acme.create("skills", name=name)

    assert acme.get("skills", created["id"]).json()["name"] == name
