"""``/openapi.json`` documents lifeboat as it answers (issue 7, item 8): every operation lists
the 4xx it can give with the one ``Error`` schema (no FastAPI ``HTTPValidationError``), and
request schemas carry the limits the server enforces. The fuzz test
(``tests/e2e/test_api_fuzz.py``) checks the document against the live answers; these tests
pin down what a client generator reads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lifeboat.domain.sync_settings import MAX_INTERVAL_MINUTES
from lifeboat.ids import MAX_ID
from tests.shared_platform import shared_api, shared_platform  # noqa: F401

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def document(shared_api) -> dict[str, Any]:
    return shared_api.get("/openapi.json").json()


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{method.upper()} {path}", op) for path, ops in document["paths"].items() for method, op in ops.items()]


def body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    schema = document["paths"]["/api/v1" + path][method]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_fastapi_validation_schemas_are_gone(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    assert set(document["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {
        "code",
        "message",
        "details",
    }


def test_every_error_answer_of_every_operation_is_the_error_schema(document):
    for label, op in operations(document):
        errors = {status: answer for status, answer in op["responses"].items() if status[0] in "45"}
        for status, answer in errors.items():
            assert answer["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (label, status)
            assert answer["description"], (label, status)


def test_each_operation_lists_the_errors_its_inputs_can_cause(document):
    for label, op in operations(document):
        statuses = set(op["responses"])
        if op.get("security"):
            assert {"401", "403", "503"} <= statuses, label
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert {"404", "422"} <= statuses, label
        if "requestBody" in op:
            assert {"400", "413", "422"} <= statuses, label


@pytest.mark.parametrize(
    "label, expected",
    [
        ("POST /api/v1/auth/login", {"401", "403", "429", "503"}),
        ("POST /api/v1/tenants/{tenant_id}/bcp/switch", {"409", "423"}),
        ("POST /api/v1/tenants/{tenant_id}/bcp/sync-runs", {"409"}),
        ("DELETE /api/v1/tenants/{tenant_id}/skills/{entity_id}", {"409"}),
        ("POST /api/v1/tenants", {"409"}),
        ("GET /api/v1/voice/route", {"404", "409"}),
    ],
)
def test_statuses_particular_to_an_operation_are_listed(document, label, expected):
    assert expected <= set(dict(operations(document))[label]["responses"])


def test_a_real_validation_error_matches_the_documented_error_schema(shared_api, document):
    answer = shared_api.post("/api/v1/auth/login", json={"username": 5})
    error = answer.json()["error"]

    assert answer.status_code == 422
    assert set(error) == set(document["components"]["schemas"]["Error"]["properties"]["error"]["properties"])
    assert re.fullmatch(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["pattern"],
        error["code"],
    )


def test_sync_settings_schema_carries_the_server_limits(document):
    schema = body_schema(document, "put", "/tenants/{tenant_id}/bcp/sync-settings")
    interval = next(s for s in schema["properties"]["schedule"]["oneOf"] if "every_minutes" in s["properties"])

    assert interval["properties"]["every_minutes"]["maximum"] == MAX_INTERVAL_MINUTES == 10_080
    assert interval["properties"]["every_minutes"]["minimum"] == 5
    assert schema["properties"]["entity_types"]["minItems"] == 1
    assert schema["properties"]["enabled_at"]["readOnly"] is True
    assert schema["additionalProperties"] is False


def test_entity_schemas_carry_lengths_ranges_and_non_empty_text(document):
    users = body_schema(document, "post", "/tenants/{tenant_id}/users")
    skills = body_schema(document, "post", "/tenants/{tenant_id}/skills")
    agents = body_schema(document, "post", "/tenants/{tenant_id}/agent-settings")

    assert users["properties"]["first_name"]["maxLength"] == 100 and users["properties"]["first_name"]["minLength"] == 1
    assert "pattern" in users["properties"]["first_name"]  # more than spaces
    assert users["properties"]["password"]["minLength"] == 8 and users["properties"]["password"]["maxLength"] == 256
    assert skills["properties"]["hours_of_operation_id"]["maximum"] == MAX_ID
    assert skills["properties"]["disposition_ids"]["uniqueItems"] is True
    skill = agents["properties"]["skills"]["items"]
    assert skill["required"] == ["skill_id", "proficiency"] and skill["additionalProperties"] is False
    assert (
        "America/New_York"
        in body_schema(document, "put", "/tenants/{tenant_id}/business-unit")["properties"]["time_zone"]["enum"]
    )


def test_small_bodies_carry_their_limits_too(document, shared_platform):
    assert body_schema(document, "post", "/tenants")["properties"]["region"]["enum"] == sorted(shared_platform.regions)
    assert body_schema(document, "post", "/voice/tokens")["properties"]["name"]["maxLength"] == 200
    switch = body_schema(document, "post", "/tenants/{tenant_id}/bcp/switch")
    assert switch["properties"]["to"]["enum"] == ["bcp", "primary"] and switch["required"] == ["to", "passkey"]
    alert = body_schema(document, "post", "/tenants/{tenant_id}/alert-subscriptions")
    assert alert["properties"]["target"]["maxLength"] == 500 and len(alert["oneOf"]) == 2
    assert body_schema(document, "post", "/auth/login")["properties"]["tenant_id"]["anyOf"][0]["maximum"] == MAX_ID


def test_list_offsets_stop_at_the_id_space(document):
    params = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/tenants"]["get"]["parameters"]}
    assert params["offset"]["maximum"] == MAX_ID and params["limit"]["maximum"] == 1000
