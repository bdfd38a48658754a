"""Readiness of a BCP plan (SPEC §8) over ``GET /tenants/{t}/bcp/readiness``, on SQLite and
PostgreSQL: each check ``pass``/``warn``/``fail`` with the figures behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform
from lifeboat.services.bcp import readiness as readiness_service
from tests.bcp_fixture import SyncedPlan, build_plan, with_region_down
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, Http, entity_url, error_code


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    """A plan of its own on the module's platform, synced once."""
    return build_plan(shared_api, shared_platform)


def readiness(plan: SyncedPlan, tenant_id: int | None = None, http: Http | None = None) -> dict[str, Any]:
    return (http or plan.ops).get(plan.url("/readiness", tenant_id))


def checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


ALL_PASS = dict.fromkeys(
    [
        "last_successful_sync",
        "last_run",
        "script_references",
        "voice_points_of_contact",
        "users_with_bcp_access",
        "voice_skill_agents",
    ],
    "pass",
)


def test_a_plan_never_synced_fails(shared_api, shared_platform):
    plan = build_plan(shared_api, shared_platform, synced=False, bcp_only=False)

    report = readiness(plan)

    assert report["status"] == "fail"
    assert statuses(report) == {
        **ALL_PASS,
        "last_successful_sync": "fail",
        "last_run": "fail",
        "voice_points_of_contact": "fail",
        "users_with_bcp_access": "fail",
        "voice_skill_agents": "fail",
    }
    found = checks(report)
    assert (found["last_successful_sync"]["at"], found["last_successful_sync"]["age_s"]) == (None, None)
    assert (found["last_run"]["run_id"], found["last_run"]["run_status"]) == (None, None)
    assert found["voice_points_of_contact"]["active_voice"] == 0
    assert (found["users_with_bcp_access"]["single"], found["users_with_bcp_access"]["multiple"]) == (0, 0)
    assert found["voice_skill_agents"]["skills"] == []
    assert all(c["message"] for c in report["checks"])


def test_a_synced_plan_passes_with_its_figures(plan):
    last_run = plan.describe()["last_run"]

    report = readiness(plan)

    assert (report["status"], report["active_side"]) == ("pass", "primary")
    assert statuses(report) == ALL_PASS
    found = checks(report)
    assert found["last_successful_sync"]["run_id"] == last_run["id"]
    assert found["last_successful_sync"]["at"] == last_run["finished_at"]
    assert 0 <= found["last_successful_sync"]["age_s"] < 120
    assert (found["last_run"]["run_id"], found["last_run"]["run_status"], found["last_run"]["errors"]) == (
        last_run["id"],
        "succeeded",
        0,
    )
    assert (found["script_references"]["unresolved"], found["script_references"]["unreadable_scripts"]) == (0, 0)
    assert found["voice_points_of_contact"]["active_voice"] == 1
    assert (found["users_with_bcp_access"]["single"], found["users_with_bcp_access"]["multiple"]) == (1, 2)
    assert found["voice_skill_agents"]["skills"] == [
        {"skill_id": plan.bcp_of("skills", "billing"), "name": "Billing", "agents": 1},
        {"skill_id": plan.bcp_of("skills", "support"), "name": "Support", "agents": 1},
    ]


def test_the_report_is_the_same_from_the_bcp_tenant(plan):
    from_primary, from_bcp = readiness(plan), readiness(plan, plan.bcp_id)

    assert {k: v for k, v in from_bcp.items() if k != "checked_at"} == {
        k: v for k, v in from_primary.items() if k != "checked_at"
    }


def test_a_voice_skill_without_an_agent_with_bcp_access_warns(plan):
    claims = plan.make("skills", "claims", {"name": "Claims", "media_type": "voice"})
    # An agent without BCP access does not count: nobody could take these calls in BCP.
    plan.make(
        "agent-settings",
        "none",
        {"user_id": plan.of("users", "none"), "skills": [{"skill_id": claims, "proficiency": 3}]},
    )
    plan.sync()

    report = readiness(plan)

    assert report["status"] == "warn"
    assert statuses(report) == {**ALL_PASS, "voice_skill_agents": "warn"}
    skills = {s["name"]: s for s in checks(report)["voice_skill_agents"]["skills"]}
    assert skills["Claims"] == {"skill_id": plan.bcp_of("skills", "claims"), "name": "Claims", "agents": 0}
    assert "1 of 3" in checks(report)["voice_skill_agents"]["message"]

    plan.ops.call("PATCH", entity_url(plan.primary_id, "users", plan.of("users", "none")), json={"bcp_type": "single"})
    plan.sync()

    assert readiness(plan)["status"] == "pass"


def test_a_chat_skill_without_agents_does_not_matter(plan):
    found = checks(readiness(plan))["voice_skill_agents"]

    assert "Chat" not in {s["name"] for s in found["skills"]}
    assert found["status"] == "pass"


def test_an_unresolved_script_reference_warns(plan):
    plan.make(
        "scripts",
        "broken",
        {
            "path": "Inbound/Overflow",
            "media_type": "voice",
            "content": {
                "header": {"name": "Overflow"},
                "actions": {"1": {"name": "BEGIN"}, "2": {"name": "REQAGENT"}},
                "properties": {"2": {"0": {"name": "Skill", "value": "987654321"}}},
                "branches": {"1": {"Default": "2"}},
            },
        },
    )
    plan.sync()

    report = readiness(plan)

    assert report["status"] == "warn"
    assert statuses(report) == {**ALL_PASS, "script_references": "warn"}
    assert checks(report)["script_references"]["unresolved"] == 1
    checklist = plan.ops.get(plan.url("/script-checklist"))["items"]
    assert [(i["script"], i["status"]) for i in checklist if i["status"] != "remapped"] == [
        ("Inbound/Overflow", "unresolved")
    ]


def test_no_active_voice_point_of_contact_in_bcp_fails(plan):
    plan.ops.call(
        "PATCH",
        entity_url(plan.primary_id, "points-of-contact", plan.of("points-of-contact", "voice")),
        json={"is_active": False},
    )
    plan.sync()

    report = readiness(plan)

    assert report["status"] == "fail"
    assert statuses(report) == {**ALL_PASS, "voice_points_of_contact": "fail"}
    assert checks(report)["voice_points_of_contact"]["active_voice"] == 0


def test_bcp_access_without_a_multiple_user_warns(plan):
    u = plan.usernames
    csv_body = f"username,bcp_type\n{u['multiple']},single\n{u['admin']},single\n".encode()
    assert (
        plan.api.post(
            f"{API}/tenants/{plan.primary_id}/users/bcp-types",
            content=csv_body,
            headers={**plan.ops.headers, "Content-Type": "text/csv"},
        ).json()["applied"]
        == 2
    )
    plan.sync()

    report = readiness(plan)

    assert statuses(report) == {**ALL_PASS, "users_with_bcp_access": "warn"}
    found = checks(report)["users_with_bcp_access"]
    assert (found["single"], found["multiple"]) == (3, 0)


@pytest.mark.parametrize(
    ("age", "expected"), [(timedelta(hours=25), "pass"), (timedelta(hours=27), "warn"), (timedelta(days=4), "fail")]
)
def test_an_old_last_sync_warns_then_fails(plan, monkeypatch, age, expected):
    """The daily schedule: a day and two hours of slack, then warn, then fail after three days."""
    later = datetime.now(UTC) + age
    monkeypatch.setattr(readiness_service, "now", lambda: later)

    found = checks(readiness(plan))["last_successful_sync"]

    assert found["status"] == expected
    assert abs(found["age_s"] - age.total_seconds()) < 120


def test_readiness_needs_bcp_enablement_view(plan):
    agent = Http(plan.api, plan.headers("multiple", plan.primary_id))
    admin = Http(plan.api, plan.headers("admin", plan.bcp_id))

    refused = agent.request("GET", plan.url("/readiness"))

    assert (refused.status_code, error_code(refused)) == (403, "permission_denied")
    assert readiness(plan, plan.bcp_id, http=admin)["status"] == "pass"


def test_readiness_works_with_the_primary_region_down(plan, shared_platform):
    down = build_platform(with_region_down(shared_platform.settings, "na1"))
    try:
        with TestClient(create_app(down)) as client:
            report = client.get(plan.url("/readiness", plan.bcp_id), headers=plan.ops.headers)
    finally:
        down.close()

    assert report.status_code == 200, report.text
    assert report.json()["status"] == "pass"


def test_a_run_that_found_the_bcp_tenant_active_does_not_count_as_the_last_run(plan, shared_platform):
    from lifeboat.jobs import work_once

    assert plan.api.post(plan.url("/sync-runs"), headers=plan.ops.headers).status_code == 202  # queued, not yet run
    assert plan.switch("bcp").status_code == 200
    assert work_once(shared_platform).report["errors"][0]["code"] == "sync_paused"
    assert plan.switch("primary").status_code == 200

    found = checks(readiness(plan))["last_run"]
    assert (found["status"], found["run_status"]) == ("pass", "succeeded")


def test_remembered_figures_follow_a_sync_that_changes_them(plan):
    """Readiness remembers the script checklist figures and the skills and points of contact it
    read (store/tallies.py); a sync that changes them is seen on the next report."""
    assert statuses(readiness(plan)) == ALL_PASS
    assert statuses(readiness(plan)) == ALL_PASS  # the second report from what was remembered
    broken = plan.make(
        "scripts",
        "broken",
        {
            "path": "Inbound/Overflow",
            "media_type": "voice",
            "content": {
                "header": {"name": "Overflow"},
                "actions": {"1": {"name": "BEGIN"}, "2": {"name": "REQAGENT"}},
                "properties": {"2": {"0": {"name": "Skill", "value": "987654321"}}},
                "branches": {"1": {"Default": "2"}},
            },
        },
    )
    plan.sync()
    assert checks(readiness(plan))["script_references"]["unresolved"] == 1

    plan.ops.call("DELETE", entity_url(plan.primary_id, "scripts", broken), expect=204)
    plan.ops.call(
        "PATCH",
        entity_url(plan.primary_id, "points-of-contact", plan.of("points-of-contact", "voice")),
        json={"is_active": False},
    )
    plan.sync()

    report = readiness(plan)
    assert statuses(report) == {**ALL_PASS, "voice_points_of_contact": "fail"}
    assert checks(report)["script_references"]["unresolved"] == 0
