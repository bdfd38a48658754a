"""Drills (SPEC §14) over ``/tenants/{t}/bcp/drills``, on SQLite and PostgreSQL: only the test
numbers route to their BCP copies and only the pilots log in to BCP; nothing else changes;
a drill ends by hand, at its time limit (the scheduler's job, time moved) or by a real
switch; the passkey is checked and counted as a switch's is.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from lifeboat.services.bcp import drills, routing
from lifeboat.store import drills as drill_store
from lifeboat.store.tables import now
from tests.bcp_fixture import SyncedPlan, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, enable_sync, error_code

WRONG = "WRONG-WRONG-WRONG-WRONG"


@pytest.fixture
def plan(shared_api, shared_platform, monkeypatch) -> SyncedPlan:
    monkeypatch.setattr(shared_platform.settings, "route_cache_ttl_s", 0)
    built = build_plan(shared_api, shared_platform, bcp_only=False, synced=False)
    # A second voice number, which is not drilled: it must stay on the primary.
    built.numbers["other"] = f"+1444{random.randrange(10**6, 10**7)}"
    built.make(
        "points-of-contact",
        "other",
        {"name": "Other line", "channel": "voice", "address": built.numbers["other"], "skill_id": None},
    )
    built.work(enable_sync(built.ops, built.primary_id)["id"])
    return built


def start(plan: SyncedPlan, *, passkey: str | None = None, **fields: Any) -> Any:
    body = {"numbers": [plan.numbers["voice"]], "users": [plan.usernames["none"].upper()], **fields}
    body["passkey"] = passkey or plan.passkey
    return plan.api.post(plan.url("/drills"), json=body, headers=plan.ops.headers)


def started(plan: SyncedPlan, **fields: Any) -> dict[str, Any]:
    response = start(plan, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def route(plan: SyncedPlan, number: str) -> dict[str, Any]:
    response = plan.api.get(f"{API}/voice/route", params={"number": number}, headers=plan.ops.headers)
    assert response.status_code == 200, response.text
    return response.json()


def drill(plan: SyncedPlan, drill_id: int) -> dict[str, Any]:
    return plan.ops.get(plan.url(f"/drills/{drill_id}"))


def test_only_test_numbers_route_to_bcp_and_only_pilots_log_in_there(plan):
    agent = plan.headers("single")  # not a pilot: stays on the primary with its session
    running = started(plan)

    assert running["status"] == "running" and running["numbers"] == [plan.numbers["voice"]]
    assert running["readiness"]["status"] in ("pass", "warn", "fail") and running["started_by"]
    voice = route(plan, plan.numbers["voice"])
    assert (voice["tenant_kind"], voice["tenant_id"]) == ("bcp", plan.bcp_id)
    assert voice["point_of_contact_id"] == plan.bcp_of("points-of-contact", "voice")
    other = route(plan, plan.numbers["other"])
    assert (other["tenant_kind"], other["tenant_id"]) == ("primary", plan.primary_id)
    pilot = plan.login("none")  # no BCP access of its own: the drill lets it in as a pilot
    assert pilot.status_code == 200 and pilot.json()["tenant"]["id"] == plan.bcp_id, pilot.text
    not_pilot = plan.login("single")
    assert not_pilot.status_code == 200 and not_pilot.json()["tenant"]["id"] == plan.primary_id
    admin = plan.login("admin", plan.primary_id)
    assert admin.status_code == 200 and admin.json()["tenant"]["id"] == plan.primary_id
    assert plan.api.get(f"{API}/tenants/{plan.primary_id}", headers=agent).status_code == 200
    assert plan.describe()["active_side"] == "primary"
    plan.sync()  # sync keeps running

    counted = drill(plan, running["id"])
    assert (counted["calls_routed"], counted["pilot_logins"]) == (1, 1)
    assert 0 <= counted["first_call_s"] < 60 and 0 <= counted["first_login_s"] < 60
    route(plan, plan.numbers["voice"])
    assert drill(plan, running["id"])["calls_routed"] == 2
    assert drill(plan, running["id"])["first_call_s"] == counted["first_call_s"]


def test_a_lookup_that_is_not_over_the_api_is_no_call_for_a_drill_nor_a_switch(plan):
    """``lifeboat route`` answers with ``routing.route``: it shows the drill's route and counts
    nothing, as it stamps no switch's first call; the API's lookup (the edge's, per call) counts."""
    running = started(plan)
    shown = routing.route(plan.platform, plan.numbers["voice"])
    assert (shown["tenant_kind"], shown["drill_id"]) == ("bcp", running["id"])
    assert (drill(plan, running["id"])["calls_routed"], drill(plan, running["id"])["first_call_s"]) == (0, None)
    route(plan, plan.numbers["voice"])
    assert drill(plan, running["id"])["calls_routed"] == 1

    plan.ops.call("POST", plan.url(f"/drills/{running['id']}/end"), expect=200)
    assert plan.switch("bcp").status_code == 200
    routing.route(plan.platform, plan.numbers["voice"])
    switched = plan.ops.get(plan.url("/switches"))["items"][0]
    assert (switched["to"], switched["first_call_s"]) == ("bcp", None)
    assert route(plan, plan.numbers["voice"])["tenant_kind"] == "bcp"
    assert plan.ops.get(plan.url("/switches"))["items"][0]["first_call_s"] is not None


def test_ending_by_hand_puts_everything_back(plan):
    running = started(plan)
    ended = plan.ops.call("POST", plan.url(f"/drills/{running['id']}/end"), expect=200)

    assert (ended["status"], ended["ended_by"]) == ("ended", running["started_by"])
    assert ended["ended_at"] is not None
    assert route(plan, plan.numbers["voice"])["tenant_kind"] == "primary"
    assert plan.login("none").json()["tenant"]["id"] == plan.primary_id
    again = plan.api.post(plan.url(f"/drills/{running['id']}/end"), headers=plan.ops.headers)
    assert (again.status_code, error_code(again)) == (409, "drill_ended")
    listed = plan.ops.get(plan.url("/drills"))
    assert [d["id"] for d in listed["items"]] == [running["id"]] and listed["total"] == 1


def test_the_time_limit_ends_the_drill_from_the_scheduler(plan, monkeypatch):
    running = started(plan, minutes=5)
    assert drills.end_overdue(plan.platform) == []  # not yet
    later = now() + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr(drills, "now", lambda: later)

    ended = drills.end_overdue(plan.platform)

    assert [d.id for d in ended] == [running["id"]]
    assert drill(plan, running["id"])["ended_by"] == "time_limit"
    assert drills.end_overdue(plan.platform) == []  # ended once
    assert route(plan, plan.numbers["voice"])["tenant_kind"] == "primary"


def test_a_second_drill_is_refused_while_one_runs(plan):
    started(plan)
    second = start(plan)
    assert (second.status_code, error_code(second)) == (409, "drill_running")


def test_the_database_allows_one_running_drill_per_plan(plan):
    started(plan)
    with plan.platform.directory_unit() as uow:
        plan_id = uow.plans.of_tenant(plan.primary_id).id
        repo = drill_store.DrillRepo(uow.conn)
        at = now()
        kwargs: dict[str, Any] = {"numbers": [], "routes": {}, "users": [], "by": "t", "readiness": {}}
        assert repo.start(plan_id, at=at, ends_at=at, **kwargs) is None


def test_refused_while_bcp_is_active(plan):
    assert plan.switch("bcp").status_code == 200
    refused = start(plan)
    assert (refused.status_code, error_code(refused)) == (409, "bcp_active")


def test_a_real_switch_ends_the_running_drill(plan):
    running = started(plan)
    assert plan.switch("bcp").status_code == 200

    ended = drill(plan, running["id"])
    assert (ended["status"], ended["ended_by"]) == ("ended", "switch")
    assert route(plan, plan.numbers["other"])["tenant_kind"] == "bcp"  # the switch, not the drill


def test_a_wrong_passkey_is_refused_and_counts_toward_the_lock(plan):
    for _ in range(5):
        wrong = start(plan, passkey=WRONG)
        assert (wrong.status_code, error_code(wrong)) == (403, "wrong_passkey")
    assert plan.ops.get(plan.url("/drills"))["total"] == 0
    locked = start(plan)
    assert (locked.status_code, error_code(locked)) == (423, "passkey_locked")
    switch = plan.switch("bcp")
    assert (switch.status_code, error_code(switch)) == (423, "passkey_locked")


def test_numbers_and_users_must_belong_to_the_primary(plan):
    refused = start(plan, numbers=[plan.numbers["chat"]], users=["nobody-here"])
    assert (refused.status_code, error_code(refused)) == (422, "validation_failed")
    codes = {e["code"] for e in refused.json()["error"]["details"]["errors"]}
    assert codes == {"not_a_voice_contact", "unknown_user"}
    bad = start(plan, minutes=0)
    assert bad.status_code == 422
