"""The failback report and apply (SPEC §14) over HTTP, on SQLite and PostgreSQL: what was
changed in the BCP tenant while it was active, copied back into the primary item by item,
and a sync afterwards that finds the applied entities equal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform
from lifeboat.cli import app as cli_app
from lifeboat.errors import Unavailable
from lifeboat.services.bcp import failback as failback_service
from tests.bcp_fixture import SyncedPlan, build_plan, with_region_down
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import Http, entity_url, error_code


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    return build_plan(shared_api, shared_platform)


def report(plan: SyncedPlan, tenant_id: int | None = None) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in plan.ops.get(plan.url("/failback", tenant_id))["items"]}


def apply(plan: SyncedPlan, *ids: str) -> dict[str, dict[str, Any]]:
    answer = plan.ops.call("POST", plan.url("/failback/apply"), json={"items": list(ids)})
    assert [r["id"] for r in answer["results"]] == list(ids)
    return {r["id"]: r for r in answer["results"]}


def bcp_entity(plan: SyncedPlan, type_name: str, bcp_id: int) -> dict[str, Any]:
    return plan.ops.get(entity_url(plan.bcp_id, type_name, bcp_id))


def primary_entity(plan: SyncedPlan, type_name: str, primary_id: int) -> dict[str, Any]:
    return plan.ops.get(entity_url(plan.primary_id, type_name, primary_id))


def named(plan: SyncedPlan, tenant_id: int, type_name: str, name: str) -> list[dict[str, Any]]:
    return [e for e in plan.ops.all(entity_url(tenant_id, type_name)) if e["name"] == name]


NEW_WEEK = [{"day": "sat", "open": "10:00", "close": "14:00"}]


def change_bcp_during_outage(plan: SyncedPlan) -> dict[str, int]:
    """A new skill, other hours and a deactivated disposition, made in the active BCP tenant."""
    hours, resolved = plan.bcp_of("hours-of-operation", "weekdays"), plan.bcp_of("dispositions", "resolved")
    skill = plan.make(
        "skills",
        "escalations",
        {"name": "Escalations", "media_type": "voice", "hours_of_operation_id": hours, "disposition_ids": [resolved]},
        tenant_id=plan.bcp_id,
    )
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "hours-of-operation", hours), json={"weekly": NEW_WEEK})
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "dispositions", resolved), json={"is_active": False})
    return {"skill": skill, "hours": hours, "resolved": resolved}


def test_outage_changes_are_reported_applied_by_choice_and_synced_without_drift(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    assert report(plan) == {}  # nothing changed yet
    bcp = change_bcp_during_outage(plan)
    items = report(plan)
    assert items == report(plan, plan.bcp_id)  # either tenant of the plan answers the same
    skill_id, hours_id, disposition_id = (
        f"skills:{bcp['skill']}",
        f"hours-of-operation:{bcp['hours']}",
        f"dispositions:{bcp['resolved']}",
    )
    assert set(items) == {skill_id, hours_id, disposition_id}

    created, hours, disposition = items[skill_id], items[hours_id], items[disposition_id]
    assert (created["action"], created["primary_id"], created["name"]) == ("created", None, "Escalations")
    after = {c["field"]: c["after"] for c in created["changes"]}
    assert after["hours_of_operation_id"] == bcp["hours"] and after["disposition_ids"] == [bcp["resolved"]]
    assert all(c["before"] is None for c in created["changes"])
    assert (hours["action"], hours["primary_id"]) == ("updated", plan.of("hours-of-operation", "weekdays"))
    old_week = [{"day": "mon", "open": "08:00", "close": "17:00"}]
    assert hours["changes"] == [{"field": "weekly", "before": old_week, "after": NEW_WEEK}]
    assert (disposition["action"], disposition["primary_id"]) == ("deactivated", plan.of("dispositions", "resolved"))
    assert disposition["changes"] == [{"field": "is_active", "before": True, "after": False}]

    results = apply(plan, skill_id, hours_id)
    assert {r["status"] for r in results.values()} == {"applied"}, results
    new_skill = primary_entity(plan, "skills", results[skill_id]["primary_id"])
    assert new_skill["name"] == "Escalations"
    assert new_skill["hours_of_operation_id"] == plan.of("hours-of-operation", "weekdays")  # translated back
    assert new_skill["disposition_ids"] == [plan.of("dispositions", "resolved")]
    assert primary_entity(plan, "hours-of-operation", plan.of("hours-of-operation", "weekdays"))["weekly"] == NEW_WEEK
    assert primary_entity(plan, "dispositions", plan.of("dispositions", "resolved"))["is_active"] is True  # not chosen
    assert set(report(plan)) == {disposition_id}  # the third stays reported

    assert plan.switch("primary").status_code == 200
    run = plan.sync()
    drifted = {(d["type"], d["bcp_id"]) for d in run["drift"]}
    assert ("skills", bcp["skill"]) not in drifted and ("hours-of-operation", bcp["hours"]) not in drifted
    assert ("dispositions", bcp["resolved"]) in drifted  # not applied: the sync puts the primary's back
    assert run["counts"]["skills"]["created"] == 0  # the applied skill is not copied twice
    assert run["counts"]["hours-of-operation"]["updated"] == 0
    assert len(named(plan, plan.bcp_id, "skills", "Escalations")) == 1
    assert bcp_entity(plan, "hours-of-operation", bcp["hours"])["weekly"] == NEW_WEEK


def test_a_reference_to_a_bcp_only_entity_fails_until_that_entity_is_chosen_too(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    callback = plan.make("dispositions", "callback", {"name": "Callback"}, tenant_id=plan.bcp_id)
    skill = plan.make(
        "skills",
        "callbacks",
        {"name": "Callbacks", "media_type": "voice", "disposition_ids": [callback]},
        tenant_id=plan.bcp_id,
    )
    skill_id, callback_id = f"skills:{skill}", f"dispositions:{callback}"

    failed = apply(plan, skill_id)[skill_id]
    assert failed["status"] == "failed" and failed["error"]["code"] == "no_primary_counterpart"
    assert failed["error"]["details"]["references"] == [
        {"field": "disposition_ids", "target": "dispositions", "bcp_id": callback}
    ]
    assert named(plan, plan.primary_id, "skills", "Callbacks") == []  # nothing written for it
    assert set(report(plan)) == {skill_id, callback_id}

    both = apply(plan, skill_id, callback_id)  # asked in any order: the disposition goes first
    assert {r["status"] for r in both.values()} == {"applied"}, both
    primary_skill = primary_entity(plan, "skills", both[skill_id]["primary_id"])
    assert primary_skill["disposition_ids"] == [both[callback_id]["primary_id"]]
    assert report(plan) == {}


def test_unknown_items_and_a_bad_body_are_refused_per_item_and_as_a_whole(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    hours_id = f"hours-of-operation:{bcp['hours']}"
    results = apply(plan, "skills:1", "nonsense", hours_id)
    assert results["skills:1"]["error"]["code"] == "failback_item_not_found"
    assert results["nonsense"]["status"] == "failed"
    assert results[hours_id]["status"] == "applied"
    for body in ({}, {"items": []}, {"items": [1]}, {"items": ["x"], "extra": 1}, ["x"]):
        response = plan.ops.request("POST", plan.url("/failback/apply"), json=body)
        assert response.status_code == 422 and error_code(response) == "validation_failed", body


def test_the_report_is_empty_without_a_switch_and_needs_permissions(plan: SyncedPlan) -> None:
    plan.make("skills", "local", {"name": "Before any switch", "media_type": "voice"}, tenant_id=plan.bcp_id)
    assert report(plan) == {}
    assert plan.switch("bcp").status_code == 200
    change_bcp_during_outage(plan)
    agent = Http(plan.api.client, plan.headers("single", tenant_id=plan.bcp_id))
    response = agent.request("GET", plan.url("/failback", plan.bcp_id))
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    response = agent.request("POST", plan.url("/failback/apply", plan.bcp_id), json={"items": ["x"]})
    assert response.status_code == 403


def test_other_tenants_neither_see_nor_apply_a_plans_failback(plan: SyncedPlan) -> None:
    other = build_plan(plan.api, plan.platform, bcp_only=False)
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    stranger = Http(plan.api.client, other.headers("admin", tenant_id=other.primary_id))
    for tenant_id in (plan.primary_id, plan.bcp_id):
        assert stranger.request("GET", plan.url("/failback", tenant_id)).status_code in (403, 404)
        body = {"items": [f"hours-of-operation:{bcp['hours']}"]}
        assert stranger.request("POST", plan.url("/failback/apply", tenant_id), json=body).status_code in (403, 404)
    assert report(other) == {}
    assert set(report(plan)) == {
        f"skills:{bcp['skill']}",
        f"hours-of-operation:{bcp['hours']}",
        f"dispositions:{bcp['resolved']}",
    }
    week = primary_entity(plan, "hours-of-operation", plan.of("hours-of-operation", "weekdays"))["weekly"]
    assert week != NEW_WEEK


def test_failback_needs_the_primary_region(api, platform) -> None:
    plan = build_plan(api, platform)
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    down = build_platform(with_region_down(platform.settings, "na1"))
    try:
        with TestClient(create_app(down)) as client:
            outage = Http(client, plan.ops.headers)
            response = outage.request("GET", plan.url("/failback", plan.bcp_id))
            assert response.status_code == 503 and error_code(response) == "region_unavailable"
            body = {"items": [f"hours-of-operation:{bcp['hours']}"]}
            response = outage.request("POST", plan.url("/failback/apply", plan.bcp_id), json=body)
            assert response.status_code == 503 and error_code(response) == "region_unavailable"
    finally:
        down.close()
    assert f"hours-of-operation:{bcp['hours']}" in report(plan)  # nothing was applied


def test_the_command_line_shows_and_applies_the_report(api, platform, backend) -> None:
    if backend != "sqlite":
        pytest.skip("the command line reads a data directory: the SQLite installation")
    plan = build_plan(api, platform)
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    where = ["--data-dir", str(platform.settings.data_dir), "--tenant", str(plan.primary_id)]
    shown = CliRunner().invoke(cli_app, ["failback", "show", *where], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"hours-of-operation:{bcp['hours']}" in shown.output and "Escalations" in shown.output
    applied = CliRunner().invoke(cli_app, ["failback", "apply", f"hours-of-operation:{bcp['hours']}", *where])
    assert applied.exit_code == 0 and "applied" in applied.output, applied.output
    failed = CliRunner().invoke(cli_app, ["failback", "apply", "skills:1", *where])
    assert failed.exit_code == 1 and "failback_item_not_found" in failed.output
    assert primary_entity(plan, "hours-of-operation", plan.of("hours-of-operation", "weekdays"))["weekly"] == NEW_WEEK


def test_a_users_fields_are_copied_back_but_not_a_new_username(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    single, multiple = plan.bcp_of("users", "single"), plan.bcp_of("users", "multiple")
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "users", single), json={"first_name": "Renamed"})
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "users", multiple), json={"username": f"moved{plan.bcp_id}"})
    results = apply(plan, f"users:{single}", f"users:{multiple}")
    assert results[f"users:{single}"]["status"] == "applied"
    assert primary_entity(plan, "users", plan.of("users", "single"))["first_name"] == "Renamed"
    assert results[f"users:{multiple}"]["error"]["code"] == "failback_not_supported"
    assert primary_entity(plan, "users", plan.of("users", "multiple"))["username"] == plan.usernames["multiple"]


def test_a_deactivated_or_deleted_user_is_copied_back_and_a_created_one_says_why_not(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    single, none = plan.bcp_of("users", "single"), plan.bcp_of("users", "none")
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "users", single), json={"is_active": False})
    plan.ops.call("DELETE", entity_url(plan.bcp_id, "users", none), expect=204)
    made = plan.ops.call(
        "POST",
        entity_url(plan.bcp_id, "users"),
        json={
            "username": f"outage{plan.bcp_id}",
            "email": "outage@example.com",
            "first_name": "Out",
            "last_name": "Age",
            "bcp_type": "none",
            "password": "bcp-test-password",
        },
        expect=201,
    )
    ids = (f"users:{single}", f"users:{none}", f"users:{made['id']}")
    assert report(plan)[ids[1]]["action"] == "deleted"

    results = apply(plan, *ids)

    assert results[ids[0]]["status"] == "applied" and results[ids[1]]["status"] == "applied", results
    assert primary_entity(plan, "users", plan.of("users", "single"))["is_active"] is False
    gone = plan.ops.request("GET", entity_url(plan.primary_id, "users", plan.of("users", "none")))
    assert gone.status_code == 404
    created = results[ids[2]]["error"]
    assert created["code"] == "failback_not_supported" and "login index" in created["message"]
    users = plan.ops.all(entity_url(plan.primary_id, "users"))
    assert f"outage{plan.bcp_id}" not in {u["username"] for u in users}
    # the deleted user's username is free again in the primary
    again = {
        "username": plan.usernames["none"],
        "email": "again@example.com",
        "first_name": "A",
        "last_name": "B",
        "bcp_type": "none",
        "password": "bcp-test-password",
    }
    plan.ops.call("POST", entity_url(plan.primary_id, "users"), json=again, expect=201)


def script_content(hours: int, skill: int) -> dict[str, Any]:
    return {
        "header": {"name": "Main"},
        "actions": {"1": {"name": "BEGIN"}, "2": {"name": "HOURS"}, "3": {"name": "REQAGENT"}},
        "properties": {
            "2": {"0": {"name": "Profile", "value": str(hours)}},
            "3": {"0": {"name": "Skill", "value": str(skill)}},
        },
        "branches": {"1": {"Default": "2"}, "2": {"Open": "3"}},
    }


def test_a_script_is_copied_back_with_its_ids_translated_once_its_targets_have_counterparts(plan: SyncedPlan) -> None:
    assert plan.switch("bcp").status_code == 200
    hours = plan.bcp_of("hours-of-operation", "weekdays")
    skill = plan.make("skills", "outage", {"name": "Outage line", "media_type": "voice"}, tenant_id=plan.bcp_id)
    script = plan.bcp_of("scripts", "main")
    plan.ops.call("PATCH", entity_url(plan.bcp_id, "scripts", script), json={"content": script_content(hours, skill)})
    script_id, skill_id = f"scripts:{script}", f"skills:{skill}"

    alone = apply(plan, script_id)[script_id]
    assert alone["status"] == "failed" and alone["error"]["code"] == "no_primary_counterpart", alone
    assert alone["error"]["details"]["references"] == [{"field": "content", "target": "skills", "bcp_id": skill}]
    primary_script = primary_entity(plan, "scripts", plan.of("scripts", "main"))
    assert primary_script["content"] == script_content(
        plan.of("hours-of-operation", "weekdays"), plan.of("skills", "billing")
    )  # unchanged

    both = apply(plan, script_id, skill_id)
    assert {r["status"] for r in both.values()} == {"applied"}, both
    primary_script = primary_entity(plan, "scripts", plan.of("scripts", "main"))
    new_skill = both[skill_id]["primary_id"]
    assert primary_script["content"] == script_content(plan.of("hours-of-operation", "weekdays"), new_skill)
    assert report(plan) == {}
    assert plan.switch("primary").status_code == 200
    run = plan.sync()
    assert ("scripts", script) not in {(d["type"], d["bcp_id"]) for d in run["drift"]}
    assert run["counts"]["scripts"]["updated"] == 0


def test_a_created_item_whose_correlation_was_not_written_is_adopted_on_the_next_apply(
    plan: SyncedPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    skill_id = f"skills:{bcp['skill']}"
    real = failback_service._correlate

    def lost(*args: Any, **kwargs: Any) -> None:
        raise Unavailable("The BCP region went away.", code="region_unavailable")

    monkeypatch.setattr(failback_service, "_correlate", lost)
    first = apply(plan, skill_id)[skill_id]
    assert first["status"] == "failed" and first["error"]["code"] == "region_unavailable"
    [written] = named(plan, plan.primary_id, "skills", "Escalations")  # the primary write went through
    assert skill_id in report(plan)  # still reported: no correlation yet

    monkeypatch.setattr(failback_service, "_correlate", real)
    second = apply(plan, skill_id)[skill_id]
    assert second["status"] == "applied" and second["primary_id"] == written["id"], second
    assert len(named(plan, plan.primary_id, "skills", "Escalations")) == 1
    assert skill_id not in report(plan)
    assert plan.switch("primary").status_code == 200
    run = plan.sync()
    assert run["counts"]["skills"]["created"] == 0
    assert len(named(plan, plan.bcp_id, "skills", "Escalations")) == 1
