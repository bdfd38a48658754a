"""Switch to BCP and revert (SPEC §6) over ``POST /tenants/{t}/bcp/switch``, on SQLite and
PostgreSQL: the passkey, the permission, the lockout, the audit trail, and the effects that
happen together (active side, epoch, sessions, sync pause, alerts; routing is in
``test_routing.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform
from lifeboat.jobs import schedule_due, work_once
from lifeboat.services.bcp import switchover
from lifeboat.services.bcp.routing import invalidate_routes
from tests.bcp_fixture import SyncedPlan, bearer, build_plan, with_region_down
from tests.conftest import Api
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, Http, entity_url, error_code

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
WRONG = "WRONG-WRONG-WRONG-WRONG"


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    """A plan of its own on the module's platform (tenants and plans do not see each other)."""
    return build_plan(shared_api, shared_platform)


def state(plan: SyncedPlan) -> tuple[str, int]:
    described = plan.describe()
    return described["active_side"], described["epoch"]


def sessions(plan: SyncedPlan) -> dict[str, dict[str, str]]:
    """Open sessions of users of both tenants (the ``multiple`` user in each)."""
    return {
        "single@primary": plan.headers("single"),
        "admin@primary": plan.headers("admin", plan.primary_id),
        "multiple@bcp": plan.headers("multiple", plan.bcp_id),
        "bcp_only@bcp": plan.headers("bcp_only"),
    }


def tenant_of(plan: SyncedPlan, name: str) -> int:
    return plan.primary_id if name.endswith("@primary") else plan.bcp_id


def reads(plan: SyncedPlan, name: str, headers: dict[str, str]) -> int:
    return plan.api.get(f"{API}/tenants/{tenant_of(plan, name)}", headers=headers).status_code


def switch_attempts(plan: SyncedPlan, tenant_id: int) -> list[dict[str, Any]]:
    """The switch attempts in a tenant's audit log, oldest first."""
    audit = plan.ops.get(f"{API}/tenants/{tenant_id}/audit", limit=200)["items"]
    return [a for a in reversed(audit) if a["action"] == "bcp.switch_attempt"]


def outcomes(plan: SyncedPlan, tenant_id: int) -> list[str]:
    return [a["details"]["outcome"] for a in switch_attempts(plan, tenant_id)]


def test_a_wrong_passkey_is_refused_and_changes_nothing(plan):
    open_sessions = sessions(plan)

    response = plan.switch("bcp", passkey=WRONG)

    assert response.status_code == 403, response.text
    assert error_code(response) == "wrong_passkey"
    assert state(plan) == ("primary", 0)
    assert {name: reads(plan, name, h) for name, h in open_sessions.items()} == dict.fromkeys(open_sessions, 200)
    assert plan.describe()["sync_paused"] is False


def test_switching_needs_bcp_enablement_edit_even_with_the_passkey(plan):
    agent = plan.headers("multiple", plan.primary_id)  # may enter both tenants, but holds no switch permission

    response = plan.switch("bcp", headers=agent)

    assert response.status_code == 403, response.text
    assert error_code(response) == "permission_denied"
    assert response.json()["error"]["details"] == {"permission": "bcp.enablement.edit"}
    assert state(plan) == ("primary", 0)
    assert reads(plan, "single@primary", agent) == 200
    assert outcomes(plan, plan.primary_id) == outcomes(plan, plan.bcp_id) == ["forbidden"]


def test_a_user_of_another_tenant_cannot_switch_this_plan(plan, shared_api, shared_platform):
    other = build_plan(shared_api, shared_platform, bcp_only=False)
    stranger = other.headers("admin", other.primary_id)

    response = plan.switch("bcp", headers=stranger)

    assert response.status_code == 404
    assert state(plan) == ("primary", 0)


def test_five_wrong_passkeys_lock_switching_even_with_the_right_passkey(plan):
    answers = [plan.switch("bcp", passkey=WRONG) for _ in range(5)]
    locked = plan.switch("bcp")
    from_bcp = plan.switch("bcp", tenant_id=plan.bcp_id)  # the lock is the plan's, not a tenant's

    assert [(r.status_code, error_code(r)) for r in answers] == [(403, "wrong_passkey")] * 5
    assert (locked.status_code, error_code(locked)) == (423, "passkey_locked")
    assert (from_bcp.status_code, error_code(from_bcp)) == (423, "passkey_locked")
    unlock_at = datetime.fromisoformat(locked.json()["error"]["details"]["unlock_at"])
    assert timedelta(minutes=14) < unlock_at - datetime.now(UTC) <= timedelta(minutes=15)
    assert state(plan) == ("primary", 0)


def test_every_switch_try_is_in_the_audit_log_of_both_tenants(plan):
    agent = plan.headers("multiple", plan.primary_id)
    plan.switch("bcp", headers=agent)
    for _ in range(5):
        plan.switch("bcp", passkey=WRONG)
    plan.switch("bcp")

    expected = ["forbidden"] + ["wrong_passkey"] * 5 + ["locked"]
    assert outcomes(plan, plan.primary_id) == outcomes(plan, plan.bcp_id) == expected
    actors = [a["actor"] for a in switch_attempts(plan, plan.bcp_id)]
    assert actors == [f"user:{plan.usernames['multiple']}"] + ["operator:ops"] * 6
    assert all(a["details"]["to"] == "bcp" for a in switch_attempts(plan, plan.primary_id))


def test_the_lock_ends_15_minutes_after_the_fifth_wrong_passkey(plan, monkeypatch):
    for _ in range(5):
        plan.switch("bcp", passkey=WRONG)
    assert plan.switch("bcp").status_code == 423

    later = datetime.now(UTC) + timedelta(minutes=15, seconds=5)
    monkeypatch.setattr(switchover, "now", lambda: later)
    response = plan.switch("bcp")

    assert response.status_code == 200, response.text
    assert state(plan) == ("bcp", 1)


def test_a_lock_on_one_plan_leaves_other_plans_alone(plan, shared_api, shared_platform):
    other = build_plan(shared_api, shared_platform, bcp_only=False)
    for _ in range(5):
        plan.switch("bcp", passkey=WRONG)

    assert other.switch("bcp").status_code == 200
    assert plan.switch("bcp").status_code == 423


def test_switching_to_the_active_side_is_409_and_changes_nothing(plan):
    open_sessions = sessions(plan)

    response = plan.switch("primary")

    assert response.status_code == 409, response.text
    assert error_code(response) == "already_active"
    assert state(plan) == ("primary", 0)
    assert {name: reads(plan, name, h) for name, h in open_sessions.items()} == dict.fromkeys(open_sessions, 200)
    assert plan.switch("bcp").status_code == 200
    again = plan.switch("bcp")
    assert (again.status_code, error_code(again)) == (409, "already_active")
    assert state(plan) == ("bcp", 1)


@pytest.mark.parametrize(
    "body",
    [
        {"to": "sideways", "passkey": "x"},
        {"to": "BCP", "passkey": "x"},
        {"to": "bcp"},
        {"passkey": "x"},
        {"to": "bcp", "passkey": ""},
    ],
)
def test_a_malformed_switch_request_is_422_and_changes_nothing(plan, body):
    if body.get("passkey") == "x":
        body = {**body, "passkey": plan.passkey}

    response = plan.api.post(plan.url("/switch"), json=body, headers=plan.ops.headers)

    assert response.status_code == 422, response.text
    assert state(plan) == ("primary", 0)


def test_a_failing_readiness_does_not_stop_a_switch_and_the_answer_says_so(shared_api, shared_platform):
    """Switching is the administrator's call: readiness informs it, never blocks it."""
    plan = build_plan(shared_api, shared_platform, synced=False, bcp_only=False)

    response = plan.switch("bcp")

    assert response.status_code == 200, response.text
    report = response.json()["readiness"]
    assert report["status"] == "fail"
    assert {c["name"]: c["status"] for c in report["checks"]}["last_successful_sync"] == "fail"
    assert state(plan) == ("bcp", 1)


def test_a_switch_flips_the_active_side_raises_the_epoch_and_ends_every_session_of_both_tenants(plan):
    open_sessions = sessions(plan)
    voice = plan.api.post(f"{API}/voice/tokens", json={"name": "carrier"}, headers=plan.ops.headers).json()["token"]

    response = plan.switch("bcp")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert {k: answer[k] for k in ("event", "from", "active_side", "active_tenant_id", "epoch", "sync_paused")} == {
        "event": "switched",
        "from": "primary",
        "active_side": "bcp",
        "active_tenant_id": plan.bcp_id,
        "epoch": 1,
        "sync_paused": True,
    }
    assert answer["sessions_ended"] >= len(open_sessions)
    assert isinstance(answer["switch_ms"], (int, float)) and 0 <= answer["switch_ms"] < 60_000
    assert answer["readiness"]["status"] == "pass"
    assert answer["readiness"]["active_side"] == "bcp"
    assert {c["name"] for c in answer["readiness"]["checks"]} >= {
        "last_successful_sync",
        "last_run",
        "script_references",
        "voice_points_of_contact",
        "users_with_bcp_access",
        "voice_skill_agents",
    }
    for name, headers in open_sessions.items():
        ended = plan.api.get(f"{API}/tenants/{tenant_of(plan, name)}", headers=headers)
        assert (name, ended.status_code, error_code(ended)) == (name, 401, "invalid_token")
    # Operators and the voice edge belong to no tenant: their tokens live on.
    assert plan.api.get(f"{API}/tenants/{plan.bcp_id}", headers=plan.ops.headers).status_code == 200
    voice_route = plan.api.get(
        f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers={"Authorization": f"Bearer {voice}"}
    )
    assert voice_route.status_code == 200
    described = plan.describe()
    assert (described["active_side"], described["epoch"], described["active_tenant_id"]) == ("bcp", 1, plan.bcp_id)
    assert described["sync_paused"] is True and described["next_run_at"] is None


def test_the_switch_is_audited_in_both_tenants_with_before_and_after(plan):
    plan.switch("bcp")

    for tenant_id in (plan.primary_id, plan.bcp_id):
        [attempt] = switch_attempts(plan, tenant_id)
        assert attempt["details"]["outcome"] == "switched"
        assert attempt["before"] == {"active_side": "primary", "epoch": 0}
        assert attempt["after"] == {"active_side": "bcp", "epoch": 1}


def test_a_multiple_admin_logged_in_to_bcp_switches_from_there_and_reverts(plan):
    admin = plan.headers("admin", plan.bcp_id)

    switched = plan.switch("bcp", headers=admin, tenant_id=plan.bcp_id)

    assert switched.status_code == 200, switched.text
    assert state(plan) == ("bcp", 1)
    # The switch ended the admin's own session too: log in again (to BCP) to revert.
    assert plan.switch("primary", headers=admin, tenant_id=plan.bcp_id).status_code == 401
    admin = plan.headers("admin", plan.bcp_id)
    reverted = plan.switch("primary", headers=admin, tenant_id=plan.bcp_id)
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["event"] == "reverted"
    assert state(plan) == ("primary", 2)
    assert switch_attempts(plan, plan.primary_id)[0]["actor"] == f"user:{plan.usernames['admin']}"


def test_a_multiple_admin_logged_in_to_the_primary_switches_too(plan):
    admin = plan.headers("admin", plan.primary_id)

    assert plan.switch("bcp", headers=admin).status_code == 200
    assert state(plan) == ("bcp", 1)


def test_an_operator_switches_from_either_tenant_with_the_passkey(plan):
    assert plan.switch("bcp", tenant_id=plan.bcp_id).status_code == 200
    assert plan.switch("primary", tenant_id=plan.primary_id).status_code == 200
    assert state(plan) == ("primary", 2)


def test_a_regenerated_passkey_replaces_the_old_one(plan):
    new = plan.ops.call("POST", plan.url("/passkey"))["passkey"]

    old = plan.switch("bcp")

    assert (old.status_code, error_code(old)) == (403, "wrong_passkey")
    assert plan.switch("bcp", passkey=new).status_code == 200


def test_subscribers_are_told_of_a_switch_a_revert_and_a_lock(plan):
    subscription = plan.ops.call(
        "POST",
        f"{API}/tenants/{plan.bcp_id}/alert-subscriptions",
        expect=201,
        json={"kind": "webhook", "target": "https://hooks.example.com/hook"},
    )

    plan.switch("bcp")
    plan.switch("primary")
    for _ in range(5):
        plan.switch("bcp", passkey=WRONG)

    [listed] = plan.ops.get(f"{API}/tenants/{plan.bcp_id}/alert-subscriptions")["items"]
    assert listed["id"] == subscription["id"]
    assert sorted(d["event"] for d in listed["recent"]) == ["passkey_locked", "reverted", "switched"]


# --------------------------------------------------------------------------- sync pause


def test_a_manual_sync_is_409_sync_paused_while_bcp_is_active_and_allowed_after_revert(plan):
    plan.switch("bcp")

    refused = plan.ops.request("POST", plan.url("/sync-runs"))
    refused_from_bcp = plan.ops.request("POST", plan.url("/sync-runs", plan.bcp_id), json={"force": True})

    assert (refused.status_code, error_code(refused)) == (409, "sync_paused")
    assert (refused_from_bcp.status_code, error_code(refused_from_bcp)) == (409, "sync_paused")
    plan.switch("primary")
    assert plan.sync()["status"] == "succeeded"


def test_a_run_queued_before_the_switch_writes_nothing_to_bcp(plan):
    skill = plan.of("skills", "billing")
    plan.ops.call("PATCH", entity_url(plan.primary_id, "skills", skill), json={"name": "Billing renamed"})
    queued = plan.ops.call("POST", plan.url("/sync-runs"), expect=202)
    plan.switch("bcp")

    work_once(plan.platform)

    run = plan.ops.get(plan.url(f"/sync-runs/{queued['id']}"))
    assert run["status"] != "succeeded"
    assert [e["code"] for e in run["errors"]] == ["sync_paused"]
    assert plan.ops.get(entity_url(plan.bcp_id, "skills", plan.bcp_of("skills", "billing")))["name"] == "Billing"


def test_no_scheduled_run_while_bcp_is_active_and_the_schedule_resumes_on_revert(api, platform):
    """On a platform of its own: the scheduler looks at every plan."""
    plan = build_plan(api, platform)
    plan.switch("bcp")

    assert schedule_due(platform, at=FAR_FUTURE) == []
    assert plan.describe()["open_run"] is None

    reverted = plan.switch("primary").json()
    assert reverted["sync_paused"] is False
    described = plan.describe()
    assert described["next_run_at"] is not None
    assert datetime.fromisoformat(described["next_run_at"]) <= datetime.now(UTC) + timedelta(days=1)

    queued = schedule_due(platform, at=FAR_FUTURE)

    assert [(r.plan_id, r.trigger) for r in queued] == [(described["id"], "scheduled")]
    assert plan.work(queued[0].id)["trigger"] == "scheduled"


# --------------------------------------------------------------------------- primary region down


def test_with_the_primary_region_down_an_admin_enters_bcp_switches_and_users_follow(api, platform):
    """A second server on the same databases cannot reach na1 (the primary's region). Once na1
    answers again, routing stays on BCP until someone reverts."""
    plan = build_plan(api, platform)
    down = build_platform(with_region_down(platform.settings, "na1"))
    try:
        with TestClient(create_app(down)) as client:
            outage = SyncedPlan(
                Api(client),
                down,
                Http(client, plan.ops.headers),
                plan.primary,
                plan.bcp,
                plan.passkey,
                plan.ids,
                plan.usernames,
                plan.numbers,
                plan.bcp_only_id,
            )
            assert {r["name"]: r["status"] for r in client.get(f"{API}/status").json()["regions"]} == {
                "na1": "down",
                "eu1": "up",
            }

            admin = outage.login("admin", plan.bcp_id)
            assert admin.status_code == 200, admin.text
            assert admin.json()["tenant"]["id"] == plan.bcp_id
            switched = outage.switch("bcp", headers=bearer(admin.json()["token"]), tenant_id=plan.bcp_id)
            assert switched.status_code == 200, switched.text
            assert switched.json()["readiness"]["status"] == "pass"

            single = outage.login("single")
            assert single.status_code == 200, single.text
            assert single.json()["tenant"]["id"] == plan.bcp_id
            assert (outage.login("none").status_code, error_code(outage.login("none"))) == (403, "bcp_access_denied")
            assert outage.login("bcp_only").json()["tenant"]["id"] == plan.bcp_id
            voice = outage.api.get(
                f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers=plan.ops.headers
            )
            assert voice.status_code == 200, voice.text
            assert (voice.json()["tenant_id"], voice.json()["region"]) == (plan.bcp_id, "eu1")
    finally:
        down.close()

    # na1 is back (the first server reaches it): nothing switches back by itself.
    invalidate_routes(platform)  # the route table of a server lives a second at most
    assert state(plan) == ("bcp", 1)
    back = plan.api.get(f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers=plan.ops.headers)
    assert (back.status_code, back.json()["tenant_id"]) == (200, plan.bcp_id)
    assert plan.login("single").json()["tenant"]["id"] == plan.bcp_id
