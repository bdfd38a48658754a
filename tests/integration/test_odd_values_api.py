"""Odd values get a 4xx, never a 500 (issue 7, item 4), on SQLite and PostgreSQL: huge
offsets and ids, absurd sync intervals, lone surrogates in text that is stored or audited.
A switch refused for bad input is still an audited try that counts toward the lock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.bcp_fixture import SyncedPlan, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, Http, entity_url, error_code, new_tenant

LISTS = [
    "/tenants",
    "/tenants/{t}/audit",
    "/tenants/{t}/skills",
    "/tenants/{t}/users",
    "/tenants/{t}/scripts",
    "/tenants/{t}/files",
    "/tenants/{t}/bcp/sync-runs",
    "/tenants/{t}/bcp/correlations",
]
HUGE = [2**63 - 1, 2**63, 2**64, 10**30]
LONE_SURROGATE = '"\\ud800x"'  # valid JSON text, but no UTF-8 encoder (or database) takes it


@pytest.fixture(scope="module")
def plan(shared_api, shared_platform) -> SyncedPlan:
    return build_plan(shared_api, shared_platform, bcp_only=False)


def raw_json(api: Any, method: str, url: str, text: str, headers: dict[str, str]) -> Any:
    return api.request(method, url, content=text.encode(), headers={**headers, "Content-Type": "application/json"})


def field_codes(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["error"]["details"].get("errors", [])]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("name", ["offset", "limit"])
def test_a_huge_offset_or_limit_is_422_on_every_list(plan, path, name):
    url = API + path.replace("{t}", str(plan.primary_id))
    for value in HUGE:
        response = plan.api.get(url, params={name: value}, headers=plan.ops.headers)
        assert (response.status_code, error_code(response)) == (422, "validation_failed"), (value, response.text)
        assert field_codes(response)[0][0] == name


@pytest.mark.parametrize("path", LISTS)
def test_the_largest_offset_answers_an_empty_page(plan, path):
    response = plan.ops.get(API + path.replace("{t}", str(plan.primary_id)), offset=2**53 - 1)
    assert response["items"] == [] and response["total"] >= 0


@pytest.mark.parametrize(
    "path",
    [
        "/tenants/{id}",
        "/tenants/{t}/skills/{id}",
        "/tenants/{t}/bcp/sync-runs/{id}",
        "/tenants/{t}/scripts/{id}/references",
    ],
)
def test_an_id_beyond_2_63_is_simply_not_found(plan, path):
    def get(value: int) -> Any:
        url = API + path.replace("{t}", str(plan.primary_id)).replace("{id}", str(value))
        return plan.api.get(url, headers=plan.ops.headers)

    assert [get(v).status_code for v in (2**53, 2**63, 2**64, -(2**63) - 1)] == [404] * 4


def test_a_login_or_a_pairing_naming_a_huge_tenant_id_is_422(plan):
    login = plan.api.post(f"{API}/auth/login", json={"username": "ops", "password": "x", "tenant_id": 2**63})
    pairing = plan.api.post(
        f"{API}/tenants/{plan.primary_id}/bcp/validate", json={"bcp_tenant_id": 2**63}, headers=plan.ops.headers
    )
    assert (login.status_code, pairing.status_code) == (422, 422)


@pytest.mark.parametrize("minutes", [10_081, 2**31, 10**10, 2**63, 2**64])
def test_an_interval_over_a_week_is_refused_with_interval_too_long(plan, minutes):
    response = plan.api.put(
        plan.url("/sync-settings"),
        json={"schedule": {"kind": "interval", "every_minutes": minutes}},
        headers=plan.ops.headers,
    )
    assert response.status_code == 422, response.text
    assert field_codes(response) == [("schedule.every_minutes", "interval_too_long")]
    assert plan.ops.get(plan.url("/sync-settings"))["schedule"] == {"kind": "daily"}


def test_an_interval_of_exactly_a_week_is_accepted(plan):
    answer = plan.ops.call(
        "PUT", plan.url("/sync-settings"), json={"schedule": {"kind": "interval", "every_minutes": 10_080}}
    )
    assert answer["schedule"] == {"kind": "interval", "every_minutes": 10_080}
    plan.ops.call("PUT", plan.url("/sync-settings"), json={"schedule": {"kind": "daily"}})


def test_sync_settings_are_accepted_back_exactly_as_get_returned_them(plan):
    plan.ops.call("PUT", plan.url("/sync-settings"), json={"mode": "custom", "entity_types": ["skills", "users"]})
    shown = plan.ops.get(plan.url("/sync-settings"))

    answer = plan.ops.call("PUT", plan.url("/sync-settings"), json=shown)

    assert {k: v for k, v in answer.items() if k != "first_run"} == shown
    assert plan.ops.get(plan.url("/sync-settings")) == shown
    plan.ops.call("PUT", plan.url("/sync-settings"), json={"mode": "default"})


def test_a_changed_read_only_sync_setting_is_refused(plan):
    shown = plan.ops.get(plan.url("/sync-settings"))
    response = plan.api.put(
        plan.url("/sync-settings"), json={**shown, "enabled_at": "2001-01-01T00:00:00+00:00"}, headers=plan.ops.headers
    )
    assert response.status_code == 422 and field_codes(response) == [("enabled_at", "read_only")]


@pytest.mark.parametrize(
    "body",
    [
        {"entity_types": "skills"},
        {"entity_types": [{"a": 1}]},
        {"entity_types": []},
        {"mode": {"a": 1}},
        {"enabled": None},
        {"schedule": {"kind": ["interval"]}},
    ],
)
def test_malformed_sync_settings_are_422_in_either_mode(plan, body):
    response = plan.api.put(plan.url("/sync-settings"), json=body, headers=plan.ops.headers)
    assert response.status_code == 422, response.text


def switch_attempts(plan: SyncedPlan, tenant_id: int) -> list[dict[str, Any]]:
    audit = plan.ops.get(f"{API}/tenants/{tenant_id}/audit", limit=200)["items"]
    return [a["details"] for a in reversed(audit) if a["action"] == "bcp.switch_attempt"]


def test_a_lone_surrogate_in_the_switch_target_is_422_and_audited(shared_api, shared_platform):
    plan = build_plan(shared_api, shared_platform, bcp_only=False, synced=False)
    body = f'{{"to": {LONE_SURROGATE}, "passkey": "{plan.passkey}"}}'

    response = raw_json(plan.api, "POST", plan.url("/switch"), body, plan.ops.headers)

    assert response.status_code == 422, response.text
    assert ("to", "bad_choice") in field_codes(response)
    for tenant_id in (plan.primary_id, plan.bcp_id):
        assert switch_attempts(plan, tenant_id) == [{"to": "\\ud800x", "outcome": "bad_input"}]
    assert plan.describe()["active_side"] == "primary"


def test_switch_tries_refused_for_bad_input_count_toward_the_lock(shared_api, shared_platform):
    plan = build_plan(shared_api, shared_platform, bcp_only=False, synced=False)
    bad = [
        f'{{"to": {LONE_SURROGATE}, "passkey": "guess"}}',
        '{"to": "bcp"}',
        '"bcp"',
        '{"to": 1, "passkey": "x"}',
        '{"to": "bcp", "passkey": "x", "extra": 1}',
    ]

    answers = [raw_json(plan.api, "POST", plan.url("/switch"), body, plan.ops.headers) for body in bad]
    locked = plan.switch("bcp")

    assert [r.status_code for r in answers] == [422] * 5
    assert (locked.status_code, error_code(locked)) == (423, "passkey_locked")
    assert [a["outcome"] for a in switch_attempts(plan, plan.primary_id)] == ["bad_input"] * 5 + ["locked"]


def test_a_lone_surrogate_in_a_webhook_or_email_target_is_422(plan):
    url = f"{API}/tenants/{plan.primary_id}/alert-subscriptions"
    for kind, target in (("webhook", '"https://example.com/\\udc80"'), ("email", '"a\\ud800@example.com"')):
        response = raw_json(plan.api, "POST", url, f'{{"kind": "{kind}", "target": {target}}}', plan.ops.headers)
        assert response.status_code == 422, response.text
        assert field_codes(response) == [("target", "bad_target")]


@pytest.mark.parametrize("target", ["http://[", "https://example.com/" + "a" * 500])
def test_an_unparsable_or_overlong_webhook_target_is_422(plan, target):
    response = plan.api.post(
        f"{API}/tenants/{plan.primary_id}/alert-subscriptions",
        json={"kind": "webhook", "target": target},
        headers=plan.ops.headers,
    )
    assert response.status_code == 422, response.text


def test_a_lone_surrogate_in_a_voice_token_name_is_422(plan):
    response = raw_json(plan.api, "POST", f"{API}/voice/tokens", f'{{"name": {LONE_SURROGATE}}}', plan.ops.headers)
    assert (response.status_code, error_code(response)) == (422, "validation_failed"), response.text


@pytest.mark.parametrize("value", [[{"a": 1}], {"a": [1]}])
def test_unhashable_values_in_sync_settings_are_422(plan, value):
    response = plan.api.put(
        plan.url("/sync-settings"), json={"entity_types": value, "mode": "custom"}, headers=plan.ops.headers
    )
    assert response.status_code == 422, response.text


def test_a_wrong_method_is_405_naming_every_method_of_the_path(plan):
    response = plan.api.put(entity_url(plan.primary_id, "skills"), json={}, headers=plan.ops.headers)
    assert (response.status_code, error_code(response)) == (405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_a_wrong_method_on_the_bcp_types_csv_is_405_not_an_entity_lookup(plan):
    response = plan.api.get(f"{API}/tenants/{plan.primary_id}/users/bcp-types", headers=plan.ops.headers)
    assert (response.status_code, response.headers.get("allow")) == (405, "POST")


def test_nothing_odd_was_stored_or_broke_a_read(plan):
    ops: Http = plan.ops
    assert ops.get(f"{API}/tenants/{plan.primary_id}/audit", limit=1000)["total"] > 0
    assert new_tenant(ops, "na1")["id"] > 0
    assert json.dumps(ops.get(plan.url("")))
