"""Voice routing (SPEC §7) over ``GET /api/v1/voice/route?number=``, on SQLite and PostgreSQL.

The plan's active tenant answers with its active voice point of contact; the primary's
numbers do not route while BCP is active; digital channels have no route then; the answer
names tenant, region, the region's voice cluster, point of contact, skill and script.
Only operators and voice-edge tokens may ask.
"""

from __future__ import annotations

from typing import Any

import pytest

from lifeboat.services.bcp.routing import invalidate_routes, route_table
from lifeboat.store.alerts import SwitchAttemptRepo
from tests.bcp_fixture import CLUSTER, SyncedPlan, bearer, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, entity_url, error_code

ROUTE = f"{API}/voice/route"


@pytest.fixture
def plan(shared_api, shared_platform, monkeypatch) -> SyncedPlan:
    # Points of contact change within a test: no cached table may hide them.
    monkeypatch.setattr(shared_platform.settings, "route_cache_ttl_s", 0)
    return build_plan(shared_api, shared_platform)


def route(plan: SyncedPlan, number: str, headers: dict[str, str] | None = None) -> Any:
    return plan.api.get(ROUTE, params={"number": number}, headers=headers if headers is not None else plan.ops.headers)


def routed(plan: SyncedPlan, number: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = route(plan, number, headers)
    assert response.status_code == 200, response.text
    return response.json()


def voice_token(plan: SyncedPlan, name: str = "carrier edge") -> dict[str, str]:
    created = plan.api.post(f"{API}/voice/tokens", json={"name": name}, headers=plan.ops.headers)
    assert created.status_code == 201, created.text
    return bearer(created.json()["token"])


def refused(response: Any, status: int, code: str) -> bool:
    return (response.status_code, error_code(response)) == (status, code)


def test_a_voice_number_routes_to_the_primary_while_it_is_active(plan):
    answer = routed(plan, plan.numbers["voice"])

    assert {
        k: answer[k]
        for k in (
            "number",
            "tenant_id",
            "tenant_kind",
            "region",
            "cluster",
            "point_of_contact_id",
            "skill_id",
            "script_path",
        )
    } == {
        "number": plan.numbers["voice"],
        "tenant_id": plan.primary_id,
        "tenant_kind": "primary",
        "region": "na1",
        "cluster": CLUSTER["na1"],
        "point_of_contact_id": plan.of("points-of-contact", "voice"),
        "skill_id": plan.of("skills", "billing"),
        "script_path": "Inbound/Main",
    }


def test_after_a_switch_the_number_routes_to_the_bcp_tenant_in_its_region(plan):
    assert plan.switch("bcp").status_code == 200

    answer = routed(plan, plan.numbers["voice"])

    assert {
        k: answer[k]
        for k in (
            "number",
            "tenant_id",
            "tenant_kind",
            "region",
            "cluster",
            "point_of_contact_id",
            "skill_id",
            "script_path",
        )
    } == {
        "number": plan.numbers["voice"],
        "tenant_id": plan.bcp_id,
        "tenant_kind": "bcp",
        "region": "eu1",
        "cluster": CLUSTER["eu1"],
        "point_of_contact_id": plan.bcp_of("points-of-contact", "voice"),
        "skill_id": plan.bcp_of("skills", "billing"),
        "script_path": "Inbound/Main",
    }


def test_a_revert_routes_the_number_to_the_primary_again(plan):
    plan.switch("bcp")
    plan.switch("primary")

    answer = routed(plan, plan.numbers["voice"])

    assert (answer["tenant_id"], answer["region"], answer["cluster"]) == (plan.primary_id, "na1", CLUSTER["na1"])
    assert answer["point_of_contact_id"] == plan.of("points-of-contact", "voice")


def test_routing_follows_a_switch_at_once_even_with_a_long_lived_route_table(plan, monkeypatch):
    monkeypatch.setattr(plan.platform.settings, "route_cache_ttl_s", 3600)
    invalidate_routes(plan.platform)  # a table of this plan's numbers, then kept for an hour
    assert routed(plan, plan.numbers["voice"])["tenant_id"] == plan.primary_id

    plan.switch("bcp")

    assert routed(plan, plan.numbers["voice"])["tenant_id"] == plan.bcp_id


def test_a_switch_that_does_not_commit_keeps_the_route_table(plan, monkeypatch):
    monkeypatch.setattr(plan.platform.settings, "route_cache_ttl_s", 3600)
    invalidate_routes(plan.platform)
    assert routed(plan, plan.numbers["voice"])["tenant_id"] == plan.primary_id
    built = route_table(plan.platform).built_at

    def directory_lost(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("directory lost before the commit")

    assert plan.switch("bcp", passkey="WRONG-PASSKEY").status_code == 403
    with monkeypatch.context() as patched:
        patched.setattr(SwitchAttemptRepo, "record", directory_lost)  # after the switch's writes, same transaction
        with pytest.raises(RuntimeError, match="directory lost"):
            plan.switch("bcp")

    assert route_table(plan.platform).built_at == built  # neither try made the table stale
    assert plan.describe()["active_side"] == "primary"
    assert routed(plan, plan.numbers["voice"])["tenant_id"] == plan.primary_id


@pytest.mark.parametrize("channel", ["chat", "sms"])
def test_digital_numbers_route_to_the_primary_while_it_is_active(plan, channel):
    answer = routed(plan, plan.numbers[channel])

    assert (answer["tenant_id"], answer["channel"]) == (plan.primary_id, channel)
    assert answer["point_of_contact_id"] == plan.of("points-of-contact", channel)


@pytest.mark.parametrize("channel", ["chat", "sms"])
def test_digital_numbers_have_no_route_while_bcp_is_active(plan, channel):
    plan.switch("bcp")

    response = route(plan, plan.numbers[channel])

    assert refused(response, 409, "not_routable"), response.text


def test_a_digital_number_of_the_bcp_tenant_itself_has_no_route_while_bcp_is_active(plan):
    number = "+1558" + plan.numbers["voice"][-7:]
    plan.make(
        "points-of-contact",
        "bcp-sms",
        {"name": "BCP texts", "channel": "sms", "address": number},
        tenant_id=plan.bcp_id,
    )
    plan.switch("bcp")

    assert refused(route(plan, number), 409, "not_routable")


def test_a_primary_number_not_in_bcp_does_not_route_to_the_primary_while_bcp_is_active(plan):
    """Synced after the last run, the number exists only in the primary: it stays there, unrouted."""
    number = "+1559" + plan.numbers["voice"][-7:]
    plan.make(
        "points-of-contact",
        "late",
        {"name": "Late line", "channel": "voice", "address": number, "skill_id": plan.of("skills", "support")},
    )
    assert routed(plan, number)["tenant_id"] == plan.primary_id

    plan.switch("bcp")

    assert refused(route(plan, number), 409, "not_routable")


def test_an_inactive_point_of_contact_does_not_route(plan):
    plan.ops.call(
        "PATCH",
        entity_url(plan.primary_id, "points-of-contact", plan.of("points-of-contact", "voice")),
        json={"is_active": False},
    )

    assert refused(route(plan, plan.numbers["voice"]), 409, "not_routable")


def test_an_inactive_bcp_point_of_contact_does_not_route_while_bcp_is_active(plan):
    plan.switch("bcp")
    plan.ops.call(
        "PATCH",
        entity_url(plan.bcp_id, "points-of-contact", plan.bcp_of("points-of-contact", "voice")),
        json={"is_active": False},
    )

    assert refused(route(plan, plan.numbers["voice"]), 409, "not_routable")


def test_an_unknown_number_is_404(plan):
    response = route(plan, "+19999999999")

    assert refused(response, 404, "unknown_number")
    assert response.json()["error"]["details"] == {"number": "+19999999999"}


@pytest.mark.parametrize(
    "number", ["5551234567", "+1 555 123 4567", "+0155512345", "phone", "+", "", "+1555123456789012"]
)
def test_a_number_that_is_not_e164_is_422(plan, number):
    assert refused(route(plan, number), 422, "bad_number")


def test_a_number_whose_plus_was_not_url_encoded_still_routes(plan):
    """``?number=+15551234567`` as SPEC §9 writes it: form decoding turns the ``+`` into a space."""
    response = plan.api.get(f"{ROUTE}?number={plan.numbers['voice']}", headers=plan.ops.headers)

    assert response.status_code == 200, response.text
    assert response.json()["number"] == plan.numbers["voice"]


def test_a_number_is_required(plan):
    assert plan.api.get(ROUTE, headers=plan.ops.headers).status_code == 422


def test_a_voice_token_routes_but_reads_no_tenant(plan):
    voice = voice_token(plan)

    assert routed(plan, plan.numbers["voice"], voice)["tenant_id"] == plan.primary_id
    assert plan.api.get(f"{API}/tenants", headers=voice).json()["items"] == []
    for tenant_id in (plan.primary_id, plan.bcp_id):
        assert plan.api.get(f"{API}/tenants/{tenant_id}", headers=voice).status_code == 404
        assert plan.api.get(entity_url(tenant_id, "points-of-contact"), headers=voice).status_code == 404
    assert plan.api.post(f"{API}/voice/tokens", json={"name": "more"}, headers=voice).status_code == 403
    assert plan.switch("bcp", headers=voice).status_code == 404


def test_a_user_token_cannot_route_even_with_every_permission(plan):
    admin = plan.headers("admin", plan.primary_id)

    response = route(plan, plan.numbers["voice"], admin)

    assert refused(response, 403, "permission_denied")


def test_routing_needs_a_token(plan):
    assert route(plan, plan.numbers["voice"], headers={}).status_code == 401


def test_only_an_operator_creates_voice_tokens(plan):
    admin = plan.headers("admin", plan.primary_id)

    response = plan.api.post(f"{API}/voice/tokens", json={"name": "sneaky"}, headers=admin)

    assert refused(response, 403, "operator_required")


def test_the_voice_token_creation_is_audited_and_the_token_survives_switches(plan):
    voice = voice_token(plan, "carrier A")

    plan.switch("bcp")
    plan.switch("primary")

    assert routed(plan, plan.numbers["voice"], voice)["tenant_id"] == plan.primary_id
