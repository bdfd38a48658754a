"""BCP pairing, sync settings and sync runs over the HTTP API (SPEC §4, §9), on SQLite and
PostgreSQL. Runs are carried out by ``lifeboat.jobs.work_once``, as a worker would.

Every test builds its own primary tenant (``tests/sync_fixture.py``): every entity type,
references between them, a team lead <-> user cycle, a voice and a chat point of contact,
a file and a Studio script holding real ids.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from lifeboat.errors import Unavailable
from lifeboat.jobs import schedule_due, work_once
from lifeboat.services.bcp import sync as sync_service
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo, RunRepo, SyncRun
from lifeboat.store.region import EntityRepo
from tests.sync_fixture import (
    API,
    PASSWORD,
    Http,
    Primary,
    assert_bcp_mirrors_primary,
    build_primary,
    change_counts,
    correlation_map,
    enable_sync,
    entity_url,
    error_code,
    get_run,
    new_tenant,
    pair,
    put_settings,
    read_tenant,
)

_users = itertools.count(1)
ALL_PERMISSIONS = [
    "admin.view",
    "admin.edit",
    "acd.view",
    "acd.edit",
    "studio.view",
    "studio.edit",
    "bcp.sync.view",
    "bcp.sync.edit",
    "bcp.enablement.view",
    "bcp.enablement.edit",
    "agent",
]


@pytest.fixture
def ops(api) -> Http:
    return Http(api, api.operator())


def bcp_url(tenant_id: int, rest: str = "") -> str:
    return f"{API}/tenants/{tenant_id}/bcp{rest}"


def paired(ops: Http) -> tuple[Primary, dict[str, Any]]:
    primary = build_primary(ops, "na1")
    bcp = new_tenant(ops, "eu1")
    pair(ops, primary.id, bcp["id"])
    return primary, bcp


def work(platform) -> SyncRun:
    """One worker step that must find a run to carry out."""
    run = work_once(platform)
    assert run is not None, "no run was waiting"
    return run


def synced(ops: Http, platform, **settings: Any) -> tuple[Primary, dict[str, Any], dict[str, Any]]:
    """Paired, sync enabled, the first run carried out by a worker."""
    primary, bcp = paired(ops)
    first = enable_sync(ops, primary.id, **settings)
    work(platform)
    run = get_run(ops, primary.id, first["id"])
    assert run["status"] == "succeeded", run
    return primary, bcp, run


def run_now(ops: Http, platform, tenant_id: int, *, force: bool = False) -> dict[str, Any]:
    """ "Sync now", a worker carries it out, and the run as the API reports it."""
    queued = ops.call("POST", bcp_url(tenant_id, "/sync-runs"), json={"force": force} if force else None, expect=202)
    assert (queued["trigger"], queued["status"]) == ("manual", "queued")
    work(platform)
    return get_run(ops, tenant_id, queued["id"])


def user_with(api, ops: Http, tenant_id: int, *permissions: str) -> Http:
    """A new user of the tenant whose role holds exactly ``permissions``, logged in."""
    tag = f"{tenant_id}x{next(_users)}"
    role = ops.call(
        "POST",
        entity_url(tenant_id, "roles"),
        json={"name": f"Role {tag}", "permissions": list(permissions)},
        expect=201,
    )
    ops.call(
        "POST",
        entity_url(tenant_id, "users"),
        expect=201,
        json={
            "username": f"user{tag}",
            "email": f"user{tag}@example.com",
            "first_name": "Una",
            "last_name": "User",
            "role_id": role["id"],
            "password": PASSWORD,
        },
    )
    return Http(api, api.login(f"user{tag}", PASSWORD))


def stored_entity(platform, tenant_id: int, type_name: str, entity_id: int):
    """An entity straight from the store (for what the API never shows: password hashes)."""
    with platform.directory.read() as conn:
        tenant = TenantRepo(conn).get(tenant_id)
    region = platform.region(tenant.region)
    with region.db.read() as conn:
        return EntityRepo(conn, region.id_block).get(tenant_id, type_name, entity_id)


def bcp_state(ops: Http, primary_id: int, bcp_id: int) -> tuple[Any, Any]:
    """Everything a run could change in BCP: its entities (``updated_at`` included) and the
    correlations."""
    return read_tenant(ops, bcp_id), correlation_map(ops, primary_id)


# ------------------------------------------------------------------------------- pairing


def test_validate_returns_every_problem_with_a_stable_code(api, ops):
    primary = new_tenant(ops, "na1")
    same_region = new_tenant(ops, "na1")
    good = new_tenant(ops, "eu1")
    with_users = new_tenant(ops, "na1")
    user_with(api, ops, with_users["id"], "agent")
    taken_primary, taken_bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    pair(ops, taken_primary["id"], taken_bcp["id"])

    def problems(tenant_id: int, bcp_id: int) -> list[str]:
        answer = ops.call("POST", bcp_url(tenant_id, "/validate"), json={"bcp_tenant_id": bcp_id})
        assert answer["ok"] is (not answer["problems"])
        assert all(p["message"] for p in answer["problems"])
        return sorted(p["code"] for p in answer["problems"])

    assert problems(primary["id"], good["id"]) == []
    assert problems(primary["id"], 987_654_321) == ["bcp_tenant_not_found"]
    assert problems(primary["id"], primary["id"]) == ["same_tenant"]
    assert problems(primary["id"], same_region["id"]) == ["same_region"]
    assert problems(primary["id"], taken_bcp["id"]) == ["already_paired"]
    assert problems(taken_primary["id"], good["id"]) == ["already_paired"]
    # Every problem at once, not the first one found.
    assert problems(taken_primary["id"], with_users["id"]) == ["already_paired", "bcp_tenant_not_empty", "same_region"]

    refused = ops.request("POST", bcp_url(taken_primary["id"]), json={"bcp_tenant_id": with_users["id"]})
    assert refused.status_code == 409 and error_code(refused) == "pairing_invalid"
    assert sorted(p["code"] for p in refused.json()["error"]["details"]["problems"]) == [
        "already_paired",
        "bcp_tenant_not_empty",
        "same_region",
    ]
    assert ops.request("GET", bcp_url(with_users["id"])).status_code == 404  # no plan was made


def test_pairing_shows_the_passkey_once_and_regenerating_replaces_it(platform, ops):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")

    created = ops.call("POST", bcp_url(primary["id"]), json={"bcp_tenant_id": bcp["id"]}, expect=201)
    passkey = created["passkey"]

    assert isinstance(passkey, str) and len(passkey.replace("-", "")) >= 16
    plan = created["plan"]
    assert (plan["primary"]["tenant_id"], plan["bcp"]["tenant_id"]) == (primary["id"], bcp["id"])
    assert (plan["primary"]["region"], plan["bcp"]["region"]) == ("na1", "eu1")
    assert (plan["active_side"], plan["epoch"], plan["sync_settings"]["enabled"]) == ("primary", 0, False)
    from_primary = ops.request("GET", bcp_url(primary["id"]))
    from_bcp = ops.request("GET", bcp_url(bcp["id"]))
    assert from_primary.json() == from_bcp.json() == plan
    for response in (from_primary, from_bcp, ops.request("GET", bcp_url(primary["id"], "/sync-settings"))):
        assert passkey not in response.text and "passkey" not in response.text
    assert _stored_passkey_matches(platform, plan["id"], passkey)

    again = ops.call("POST", bcp_url(bcp["id"], "/passkey"))["passkey"]

    assert again != passkey
    assert _stored_passkey_matches(platform, plan["id"], again)
    assert not _stored_passkey_matches(platform, plan["id"], passkey)  # the old one stops working
    assert again not in ops.request("GET", bcp_url(primary["id"])).text


def _stored_passkey_matches(platform, plan_id: int, passkey: str) -> bool:
    from argon2.exceptions import VerificationError

    with platform.directory.read() as conn:
        stored = PlanRepo(conn).get(plan_id).passkey_hash
    assert passkey not in stored  # a hash, never the passkey itself
    try:
        return platform.passwords.verify(stored, passkey)
    except VerificationError:
        return False


def test_pairing_is_for_operators_and_the_plan_reads_from_either_tenant(api, ops):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    admin = user_with(api, ops, primary["id"], *ALL_PERMISSIONS)

    for path, body in (
        (bcp_url(primary["id"], "/validate"), {"bcp_tenant_id": bcp["id"]}),
        (bcp_url(primary["id"]), {"bcp_tenant_id": bcp["id"]}),
    ):
        refused = admin.request("POST", path, json=body)
        assert refused.status_code == 403 and error_code(refused) == "operator_required", path
    assert admin.request("GET", bcp_url(primary["id"])).status_code == 404  # not paired by the refused calls

    pair(ops, primary["id"], bcp["id"])
    refused = admin.request("POST", bcp_url(primary["id"], "/passkey"))
    assert refused.status_code == 403 and error_code(refused) == "operator_required"

    plan = admin.call("GET", bcp_url(primary["id"]))
    bcp_admin = user_with(api, ops, bcp["id"], "bcp.sync.view")  # a user made directly in BCP
    assert bcp_admin.call("GET", bcp_url(bcp["id"])) == plan
    assert "passkey" not in str(plan)
    nobody = user_with(api, ops, primary["id"], "agent")
    refused = nobody.request("GET", bcp_url(primary["id"]))
    assert refused.status_code == 403 and error_code(refused) == "permission_denied"
    # A user of one tenant of the plan cannot reach the plan through the other tenant.
    assert admin.request("GET", bcp_url(bcp["id"])).status_code == 404


# ------------------------------------------------------------------------- sync settings


def test_changing_sync_settings_needs_bcp_sync_edit(api, ops):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    pair(ops, primary["id"], bcp["id"])
    viewer = user_with(api, ops, primary["id"], "bcp.sync.view")
    editor = user_with(api, ops, primary["id"], "bcp.sync.view", "bcp.sync.edit")
    url = bcp_url(primary["id"], "/sync-settings")

    refused = viewer.request("PUT", url, json={"script_ids": "keep"})
    assert refused.status_code == 403 and error_code(refused) == "permission_denied"
    assert viewer.request("POST", bcp_url(primary["id"], "/sync-runs")).status_code == 403
    assert viewer.call("GET", url)["script_ids"] == "remap"

    changed = editor.call(
        "PUT", url, json={"script_ids": "keep", "mode": "custom", "entity_types": ["skills", "users"]}
    )
    assert (changed["script_ids"], changed["mode"], changed["entity_types"]) == ("keep", "custom", ["skills", "users"])
    assert changed["enabled"] is False and changed["first_run"] is None
    assert viewer.call("GET", url)["entity_types"] == ["skills", "users"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"mode": "everything"}, "mode", "bad_choice"),
        ({"mode": "custom", "entity_types": []}, "entity_types", "empty_selection"),
        ({"mode": "custom", "entity_types": ["skills", "queues"]}, "entity_types", "unknown_entity_type"),
        ({"schedule": {"kind": "interval", "every_minutes": 4}}, "schedule.every_minutes", "interval_too_short"),
        ({"schedule": {"kind": "hourly"}}, "schedule", "bad_schedule"),
        ({"script_ids": "rewrite"}, "script_ids", "bad_choice"),
        ({"remap_free_text": "yes"}, "remap_free_text", "not_a_boolean"),
        ({"enabled": 1}, "enabled", "not_a_boolean"),
        ({"enabled": True, "colour": "blue"}, "colour", "unknown_field"),
    ],
)
def test_invalid_sync_settings_are_refused_and_change_nothing(platform, ops, body, field, code):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    pair(ops, primary["id"], bcp["id"])
    url = bcp_url(primary["id"], "/sync-settings")
    before = ops.call("GET", url)

    response = ops.request("PUT", url, json=body)

    assert response.status_code == 422, response.text
    assert {e["field"]: e["code"] for e in response.json()["error"]["details"]["errors"]}.get(field) == code
    assert ops.call("GET", url) == before
    assert ops.get(bcp_url(primary["id"], "/sync-runs"))["total"] == 0
    assert ops.request("PUT", url, json=["enabled"]).status_code == 422


def test_enabling_sync_queues_a_first_run_at_once_and_schedules_the_next(platform, ops):
    primary, bcp = paired(ops)

    answer = put_settings(ops, primary.id, enabled=True, schedule={"kind": "interval", "every_minutes": 30})

    first = answer["first_run"]
    assert (first["trigger"], first["status"]) == ("enable", "queued")
    assert ops.get(bcp_url(primary.id, "/sync-runs"))["items"] == [first]
    plan = ops.get(bcp_url(bcp["id"]))
    assert plan["open_run"]["id"] == first["id"]
    enabled_at = plan["sync_settings"]["enabled_at"]
    assert datetime.fromisoformat(plan["next_run_at"]) == datetime.fromisoformat(enabled_at) + timedelta(minutes=30)
    # Enabling again, or changing other settings, queues nothing more.
    assert put_settings(ops, primary.id, enabled=True)["first_run"] is None
    assert ops.get(bcp_url(primary.id, "/sync-runs"))["total"] == 1
    daily = put_settings(ops, primary.id, schedule={"kind": "daily"})
    assert daily["enabled_at"] == enabled_at
    assert datetime.fromisoformat(ops.get(bcp_url(primary.id))["next_run_at"]) == datetime.fromisoformat(
        enabled_at
    ) + timedelta(days=1)

    ran = work(platform)

    assert ran.id == first["id"]
    done = get_run(ops, primary.id, first["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert done["started_at"] <= done["finished_at"]
    assert ops.get(bcp_url(primary.id))["last_successful_run_at"] == done["finished_at"]


# -------------------------------------------------------------------------- the first run


def test_first_run_mirrors_every_entity_field_by_field(platform, ops):
    primary, bcp, run = synced(ops, platform)

    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)

    assert change_counts(run) == {
        "business-unit": {"adopted": 1},
        "hours-of-operation": {"created": 2},
        "dispositions": {"created": 2},
        "skills": {"created": 3},
        "roles": {"created": 2},
        "teams": {"created": 1},
        "users": {"created": 2},
        "agent-settings": {"created": 1},
        "points-of-contact": {"created": 1},
        "files": {"created": 1},
        "scripts": {"created": 1},
    }
    assert run["errors"] == [] and run["drift"] == []
    # Only the voice point of contact is in BCP; the chat one is not.
    assert [p["channel"] for p in mirror.bcp["points-of-contact"].values()] == ["voice"]
    # The cycle: the BCP team's lead is the BCP lead user, whose team is the BCP team.
    team = mirror.bcp_of("teams", primary.of("teams", "tier1"))
    lead = mirror.bcp_of("users", primary.of("users", "lead"))
    assert (team["lead_user_id"], lead["team_id"]) == (lead["id"], team["id"])
    # The file's bytes came along.
    assert base64.b64decode(mirror.bcp_of("files", primary.of("files", "welcome"))["content"]).startswith(b"RIFF")
    # Passwords are carried as their hashes, so the same password opens the BCP account.
    for label in ("lead", "agent"):
        p_user = stored_entity(platform, primary.id, "users", primary.of("users", label))
        b_user = stored_entity(platform, bcp["id"], "users", mirror.corr[("users", p_user.id)])
        assert b_user.data["password_hash"] == p_user.data["password_hash"]
        assert b_user.data["password_hash"].startswith("$argon2")
    # Nothing in the primary changed (one way only).
    assert read_tenant(ops, primary.id) == mirror.primary


def test_script_ids_are_remapped_and_every_reference_is_on_the_checklist(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    bcp_script_id = corr[("scripts", primary.of("scripts", "main"))]

    items = ops.get(bcp_url(bcp["id"], "/script-checklist"))["items"]

    assert ops.get(bcp_url(primary.id, "/script-checklist"))["items"] == items
    assert {(i["script"], i["primary_script_id"], i["bcp_script_id"]) for i in items} == {
        ("Inbound/Main", primary.of("scripts", "main"), bcp_script_id)
    }
    rows = {(i["action_id"], i["property"]): (i["primary_value"], i["bcp_value"], i["status"]) for i in items}

    def remapped(type_name: str, label: str) -> tuple[str, str, str]:
        primary_id = primary.of(type_name, label)
        return str(primary_id), str(corr[(type_name, primary_id)]), "remapped"

    billing = primary.of("skills", "billing")
    assert rows == {
        ("2", "Profile"): remapped("hours-of-operation", "weekdays"),
        ("3", "Sequence"): ("prompts/welcome.wav", "prompts/welcome.wav", "unchanged"),
        ("4", "Skill"): remapped("skills", "billing"),
        ("4", "TargetAgent"): remapped("users", "agent"),
        ("5", "Skill"): remapped("skills", "support"),
        ("5", "Disposition"): remapped("dispositions", "resolved"),
        ("6", "Data"): (str(billing), str(corr[("skills", billing)]), "possible_id"),
        ("7", "Skill"): ("{SkillNo}", "{SkillNo}", "unchanged"),
        ("7", "TargetAgent"): ("Default", "Default", "unchanged"),
    }
    # The free-text id is reported, not rewritten (remap_free_text is off).
    script = ops.get(entity_url(bcp["id"], "scripts", bcp_script_id))
    assert str(billing) in script["content"]["properties"]["6"]["0"]["value"]
    assert str(corr[("skills", billing)]) not in script["content"]["properties"]["6"]["0"]["value"]


def test_a_script_reference_to_nothing_is_unresolved_on_the_checklist(platform, ops):
    primary, _bcp = paired(ops)
    gone = ops.call("POST", primary.url("skills"), json={"name": "Short-lived"}, expect=201)["id"]
    ops.call("DELETE", primary.url("skills", gone), expect=204)
    content = {
        "actions": {"1": {"name": "REQAGENT"}},
        "properties": {"1": {"0": {"name": "Skill", "value": str(gone)}}},
    }
    ops.call("POST", primary.url("scripts"), json={"path": "Inbound/Stale", "content": content}, expect=201)
    enable_sync(ops, primary.id)
    work(platform)

    stale = [i for i in ops.get(bcp_url(primary.id, "/script-checklist"))["items"] if i["script"] == "Inbound/Stale"]

    assert [(i["action"], i["property"], i["primary_value"], i["bcp_value"], i["status"]) for i in stale] == [
        ("REQAGENT", "Skill", str(gone), None, "unresolved")
    ]


def test_script_ids_keep_copies_scripts_verbatim_and_the_checklist_says_what_to_fix(platform, ops):
    primary, bcp, _ = synced(ops, platform, script_ids="keep")

    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs, script_ids="keep")

    assert mirror.bcp_of("scripts", primary.of("scripts", "main"))["content"] == primary.script_content
    items = ops.get(bcp_url(primary.id, "/script-checklist"))["items"]
    to_fix = {
        (i["action_id"], i["property"]): (i["bcp_value"], i["status"], i["written"])
        for i in items
        if i["status"] == "remapped"
    }
    assert to_fix == {
        ("2", "Profile"): (
            str(mirror.corr[("hours-of-operation", primary.of("hours-of-operation", "weekdays"))]),
            "remapped",
            False,
        ),
        ("4", "Skill"): (str(mirror.corr[("skills", primary.of("skills", "billing"))]), "remapped", False),
        ("4", "TargetAgent"): (str(mirror.corr[("users", primary.of("users", "agent"))]), "remapped", False),
        ("5", "Skill"): (str(mirror.corr[("skills", primary.of("skills", "support"))]), "remapped", False),
        ("5", "Disposition"): (
            str(mirror.corr[("dispositions", primary.of("dispositions", "resolved"))]),
            "remapped",
            False,
        ),
    }


def test_remap_free_text_rewrites_possible_ids_in_snippets(platform, ops):
    primary, bcp, _ = synced(ops, platform, remap_free_text=True)
    corr = correlation_map(ops, primary.id)
    billing = primary.of("skills", "billing")

    script = ops.get(entity_url(bcp["id"], "scripts", corr[("scripts", primary.of("scripts", "main"))]))

    data = script["content"]["properties"]["6"]["0"]["value"]
    assert data == f'ASSIGN fallback = {corr[("skills", billing)]}\nASSIGN queue = "{{SkillNo}}"'
    row = next(i for i in ops.get(bcp_url(primary.id, "/script-checklist"))["items"] if i["action_id"] == "6")
    assert (row["status"], row["written"]) == ("possible_id", True)


def test_an_entity_already_in_bcp_under_the_same_name_is_adopted_not_duplicated(platform, ops):
    primary, bcp = paired(ops)
    own = ops.call(
        "POST",
        entity_url(bcp["id"], "dispositions"),
        json={"name": "Resolved", "classification": "neutral"},
        expect=201,
    )
    first = enable_sync(ops, primary.id)
    work(platform)

    run = get_run(ops, primary.id, first["id"])
    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)

    assert run["counts"]["dispositions"]["adopted"] == 1 and run["counts"]["dispositions"]["created"] == 1
    assert mirror.corr[("dispositions", primary.of("dispositions", "resolved"))] == own["id"]
    assert mirror.bcp["dispositions"][own["id"]]["classification"] == "positive"
    assert len(mirror.bcp["dispositions"]) == 2


# ---------------------------------------------------------------------- the runs after


def test_changes_deactivations_and_deletions_reach_bcp_and_bcp_only_entities_survive(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    local = ops.call(
        "POST",
        entity_url(bcp["id"], "skills"),
        expect=201,
        json={
            "name": "BCP only",
            "hours_of_operation_id": corr[("hours-of-operation", primary.of("hours-of-operation", "weekend"))],
        },
    )
    local_role = ops.call("POST", entity_url(bcp["id"], "roles"), json={"name": "Supervisor (BCP)"}, expect=201)

    ops.call("PATCH", primary.url("skills", primary.of("skills", "billing")), json={"name": "Billing (EN)"})
    ops.call(
        "PATCH",
        primary.url("agent-settings", primary.of("agent-settings", "agent")),
        json={"skills": [{"skill_id": primary.of("skills", "support"), "proficiency": 20}]},
    )
    ops.call("PUT", primary.url("business-unit"), json={"name": "Acme renamed", "time_zone": "Europe/Dublin"})
    ops.call("PATCH", primary.url("dispositions", primary.of("dispositions", "escalated")), json={"is_active": False})
    ops.call("PATCH", primary.url("users", primary.of("users", "agent")), json={"is_active": False})
    ops.call("DELETE", primary.url("points-of-contact", primary.of("points-of-contact", "voice")), expect=204)
    ops.call("DELETE", primary.url("files", primary.of("files", "welcome")), expect=204)
    ops.call("POST", primary.url("dispositions"), json={"name": "Callback"}, expect=201)

    run = run_now(ops, platform, primary.id)

    assert run["status"] == "succeeded", run
    assert change_counts(run) == {
        "business-unit": {"updated": 1},
        "skills": {"updated": 1},
        "agent-settings": {"updated": 1},
        "dispositions": {"created": 1, "deactivated": 1},
        "users": {"deactivated": 1},
        "points-of-contact": {"deleted": 1},
        "files": {"deleted": 1},
    }
    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
    assert mirror.bcp_of("skills", primary.of("skills", "billing"))["name"] == "Billing (EN)"
    assert mirror.bcp_of("dispositions", primary.of("dispositions", "escalated"))["is_active"] is False
    assert mirror.bcp_of("users", primary.of("users", "agent"))["is_active"] is False
    assert mirror.bcp["points-of-contact"] == {} and mirror.bcp["files"] == {}
    # Entities made directly in BCP are left exactly as they were.
    assert mirror.bcp["skills"][local["id"]] == local
    assert mirror.bcp["roles"][local_role["id"]] == local_role


def test_a_hand_edit_in_bcp_is_reported_as_drift_then_overwritten(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    skill_id = corr[("skills", primary.of("skills", "support"))]
    ops.call(
        "PATCH", entity_url(bcp["id"], "skills", skill_id), json={"name": "Support (edited in BCP)", "is_active": False}
    )

    run = run_now(ops, platform, primary.id)

    assert run["drift"] == [
        {
            "type": "skills",
            "name": "Support (edited in BCP)",
            "primary_id": primary.of("skills", "support"),
            "bcp_id": skill_id,
            "fields": ["is_active", "name"],
        }
    ]
    assert change_counts(run) == {"skills": {"updated": 1}}
    back = ops.get(entity_url(bcp["id"], "skills", skill_id))
    assert (back["name"], back["is_active"]) == ("Support", True)
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_synced_entity_deleted_by_hand_in_bcp_is_created_again(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    ops.call("DELETE", entity_url(bcp["id"], "scripts", corr[("scripts", primary.of("scripts", "main"))]), expect=204)

    run = run_now(ops, platform, primary.id)

    assert change_counts(run) == {"scripts": {"created": 1}}
    assert [d["fields"] for d in run["drift"]] == [["deleted_in_bcp"]]
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_run_with_no_change_in_the_primary_changes_nothing(platform, ops):
    primary, bcp, first = synced(ops, platform)
    before = bcp_state(ops, primary.id, bcp["id"])
    total = sum(sum(c.values()) for c in first["counts"].values())

    manual = run_now(ops, platform, primary.id)
    with platform.directory.read() as conn:
        due_at = PlanRepo(conn).of_tenant(primary.id).next_run_at
    queued = schedule_due(platform, due_at)  # the daily run, which compares every entity
    assert [r.trigger for r in queued] == ["scheduled"]
    work(platform)
    scheduled = get_run(ops, primary.id, queued[0].id)

    for run in (manual, scheduled):
        assert run["status"] == "succeeded", run
        assert change_counts(run) == {}, run["trigger"]
        assert sum(c["unchanged"] for c in run["counts"].values()) == total
        assert run["drift"] == [] and run["errors"] == []
    assert scheduled["full_compare"] is True
    assert bcp_state(ops, primary.id, bcp["id"]) == before


# -------------------------------------------------------------------------------- dry run


def test_the_dry_run_lists_every_change_per_entity_and_writes_nothing(platform, ops):
    primary, bcp = paired(ops)
    before = bcp_state(ops, primary.id, bcp["id"])

    plan = ops.call("POST", bcp_url(primary.id, "/plan"))

    planned = {(c["action"], c["type"], c["primary_id"]) for c in plan["changes"]}
    expected = {
        ("create", t, i)
        for t, ids in primary.ids.items()
        for label, i in ids.items()
        if label != "chat" or t != "points-of-contact"
    }
    expected.add(("adopt", "business-unit", ops.get(primary.url("business-unit"))["id"]))
    assert planned == expected
    assert all(c["bcp_id"] is None for c in plan["changes"] if c["action"] == "create")
    assert plan["counts"]["skills"]["created"] == 3
    assert bcp_state(ops, primary.id, bcp["id"]) == before
    assert ops.get(bcp_url(primary.id, "/sync-runs"))["total"] == 0

    enable_sync(ops, primary.id)
    work(platform)
    ops.call("PATCH", primary.url("skills", primary.of("skills", "chat")), json={"name": "Chat sales (EU)"})
    ops.call("PATCH", primary.url("roles", primary.of("roles", "agent")), json={"is_active": False})
    ops.call("DELETE", primary.url("scripts", primary.of("scripts", "main")), expect=204)
    corr = correlation_map(ops, primary.id)
    before = bcp_state(ops, primary.id, bcp["id"])

    plan = ops.call("POST", bcp_url(bcp["id"], "/plan"))

    assert sorted(
        (c["action"], c["type"], c["primary_id"], c["bcp_id"], tuple(c["fields"])) for c in plan["changes"]
    ) == [
        (
            "deactivate",
            "roles",
            primary.of("roles", "agent"),
            corr[("roles", primary.of("roles", "agent"))],
            ("is_active",),
        ),
        ("delete", "scripts", primary.of("scripts", "main"), corr[("scripts", primary.of("scripts", "main"))], ()),
        ("update", "skills", primary.of("skills", "chat"), corr[("skills", primary.of("skills", "chat"))], ("name",)),
    ]
    assert bcp_state(ops, primary.id, bcp["id"]) == before
    run = run_now(ops, platform, primary.id)
    assert {t: {k: v for k, v in c.items() if k != "unchanged"} for t, c in run["counts"].items()} == {
        t: {k: v for k, v in c.items() if k != "unchanged"} for t, c in plan["counts"].items()
    }


# ------------------------------------------------------------------------------ safety


@pytest.mark.parametrize("removal", ["deleted", "deactivated"])
def test_removing_over_30_percent_of_synced_skills_holds_the_run_until_forced(platform, ops, removal):
    primary, bcp = paired(ops)
    extra = [ops.call("POST", primary.url("skills"), json={"name": f"Queue {n}"}, expect=201)["id"] for n in range(9)]
    enable_sync(ops, primary.id)
    work(platform)
    for skill_id in extra[:4]:  # 4 of 12 synced skills: 33%
        if removal == "deleted":
            ops.call("DELETE", primary.url("skills", skill_id), expect=204)
        else:
            ops.call("PATCH", primary.url("skills", skill_id), json={"is_active": False})
    before = bcp_state(ops, primary.id, bcp["id"])

    held = run_now(ops, platform, primary.id)

    assert held["status"] == "held", held
    assert [e["code"] for e in held["errors"]] == ["sync_held"]
    assert "skills: 4 of 12" in held["errors"][0]["message"]
    assert bcp_state(ops, primary.id, bcp["id"]) == before
    assert ops.get(bcp_url(primary.id))["last_run"]["status"] == "held"
    assert ops.call("POST", bcp_url(primary.id, "/plan"))["unsafe"] == [
        {"type": "skills", "removals": 4, "synced": 12, "share": 0.333}
    ]

    forced = run_now(ops, platform, primary.id, force=True)

    assert forced["status"] == "succeeded" and forced["force"] is True
    assert change_counts(forced) == {"skills": {removal: 4}}
    assert len([s for s in read_tenant(ops, bcp["id"])["skills"].values() if s["is_active"]]) == 8
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_three_of_ten_deletions_is_not_held(platform, ops):
    primary, _bcp = paired(ops)
    extra = [ops.call("POST", primary.url("skills"), json={"name": f"Queue {n}"}, expect=201)["id"] for n in range(7)]
    enable_sync(ops, primary.id)
    work(platform)
    for skill_id in extra[:3]:  # 3 of 10: exactly 30%, not more
        ops.call("DELETE", primary.url("skills", skill_id), expect=204)

    run = run_now(ops, platform, primary.id)

    assert run["status"] == "succeeded" and change_counts(run) == {"skills": {"deleted": 3}}


# ------------------------------------------------------------------------------ paused


def test_while_bcp_is_active_no_run_writes_to_it(platform, ops):
    primary, bcp = paired(ops)
    first = enable_sync(ops, primary.id)  # queued before the switch
    with platform.directory.write() as conn:
        plan_id = PlanRepo(conn).of_tenant(primary.id).id
        PlanRepo(conn).update(plan_id, active_side="bcp")
    before = bcp_state(ops, primary.id, bcp["id"])

    refused = ops.request("POST", bcp_url(primary.id, "/sync-runs"), json={"force": True})
    assert refused.status_code == 409 and error_code(refused) == "sync_paused"

    work(platform)
    run = get_run(ops, primary.id, first["id"])
    assert run["status"] == "failed" and [e["code"] for e in run["errors"]] == ["sync_paused"]
    assert bcp_state(ops, primary.id, bcp["id"]) == before
    plan = ops.get(bcp_url(bcp["id"]))
    assert plan["sync_paused"] is True and plan["next_run_at"] is None

    with platform.directory.read() as conn:
        due_at = PlanRepo(conn).get(plan_id).next_run_at
    assert schedule_due(platform, due_at) == []
    assert work_once(platform) is None
    assert ops.get(bcp_url(primary.id, "/sync-runs"))["total"] == 1
    with platform.directory.read() as conn:  # the occurrence passed; the schedule goes on
        assert PlanRepo(conn).get(plan_id).next_run_at > due_at
        assert RunRepo(conn).open_for_plan(plan_id) is None


def test_two_skills_that_swap_names_in_the_primary_swap_them_in_bcp(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    billing, support = primary.of("skills", "billing"), primary.of("skills", "support")
    ops.call("PATCH", primary.url("skills", billing), json={"name": "Swapping"})
    ops.call("PATCH", primary.url("skills", support), json={"name": "Billing"})
    ops.call("PATCH", primary.url("skills", billing), json={"name": "Support"})

    run = run_now(ops, platform, primary.id)

    assert run["status"] == "succeeded" and change_counts(run) == {"skills": {"updated": 2}}, run
    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
    assert (mirror.bcp_of("skills", billing)["name"], mirror.bcp_of("skills", support)["name"]) == (
        "Support",
        "Billing",
    )


# ------------------------------------------------------------------- more of what a run does


def test_custom_mode_syncs_the_chosen_types_and_reports_references_it_cannot_resolve(platform, ops):
    primary, bcp = paired(ops)
    first = enable_sync(ops, primary.id, mode="custom", entity_types=["skills", "agent-settings"])
    work(platform)

    run = get_run(ops, primary.id, first["id"])

    assert run["status"] == "succeeded"
    assert change_counts(run) == {"skills": {"created": 3}, "agent-settings": {"failed": 1}}
    unresolved = {
        (w["type"], w["primary_id"], w["field"], w["primary_value"])
        for w in run["warnings"]
        if w["code"] == "unresolved_reference"
    }
    billing, support = primary.of("skills", "billing"), primary.of("skills", "support")
    assert unresolved == {
        ("skills", billing, "hours_of_operation_id", primary.of("hours-of-operation", "weekdays")),
        ("skills", billing, "disposition_ids", primary.of("dispositions", "resolved")),
        ("skills", billing, "disposition_ids", primary.of("dispositions", "escalated")),
        ("skills", support, "hours_of_operation_id", primary.of("hours-of-operation", "weekend")),
        ("skills", support, "disposition_ids", primary.of("dispositions", "resolved")),
    }
    # A required reference that cannot be resolved fails that entity, with the reason.
    assert [(e["code"], e["type"], e["field"]) for e in run["errors"]] == [
        ("unresolved_reference", "agent-settings", "user_id")
    ]
    state = read_tenant(ops, bcp["id"])
    assert {t for t, entities in state.items() if entities} == {"business-unit", "skills"}
    assert all((s["hours_of_operation_id"], s["disposition_ids"]) == (None, []) for s in state["skills"].values())

    put_settings(ops, primary.id, mode="default")  # every type: the next run compares everything
    run = run_now(ops, platform, primary.id)
    assert run["status"] == "succeeded" and run["errors"] == [] and run["warnings"] == []
    assert change_counts(run)["skills"] == {"updated": 2}  # their references are filled in now
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)

    # Back to skills only: references still resolve through the existing correlations, and
    # the types no longer selected are left as they are in BCP.
    put_settings(ops, primary.id, mode="custom", entity_types=["skills"])
    ops.call(
        "PATCH", primary.url("skills", billing), json={"disposition_ids": [primary.of("dispositions", "resolved")]}
    )
    ops.call("DELETE", primary.url("dispositions", primary.of("dispositions", "escalated")), expect=204)
    run = run_now(ops, platform, primary.id)
    assert change_counts(run) == {"skills": {"updated": 1}} and run["warnings"] == []
    corr = correlation_map(ops, primary.id)
    bcp_billing = ops.get(entity_url(bcp["id"], "skills", corr[("skills", billing)]))
    assert bcp_billing["disposition_ids"] == [corr[("dispositions", primary.of("dispositions", "resolved"))]]
    assert ("dispositions", primary.of("dispositions", "escalated")) in corr  # not selected: not deleted
    assert (
        corr[("dispositions", primary.of("dispositions", "escalated"))] in read_tenant(ops, bcp["id"])["dispositions"]
    )


def test_password_and_file_content_changes_are_carried(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    agent = primary.of("users", "agent")
    ops.call("PATCH", primary.url("users", agent), json={"password": "a-brand-new-password"})
    ops.call(
        "PATCH",
        primary.url("files", primary.of("files", "welcome")),
        json={"content": base64.b64encode(b"RIFF new prompt").decode()},
    )

    run = run_now(ops, platform, primary.id)

    assert change_counts(run) == {"users": {"updated": 1}, "files": {"updated": 1}}
    corr = correlation_map(ops, primary.id)
    new_hash = stored_entity(platform, primary.id, "users", agent).data["password_hash"]
    assert stored_entity(platform, bcp["id"], "users", corr[("users", agent)]).data["password_hash"] == new_hash
    bcp_file = ops.get(entity_url(bcp["id"], "files", corr[("files", primary.of("files", "welcome"))]))
    assert base64.b64decode(bcp_file["content"]) == b"RIFF new prompt" and bcp_file["size"] == len(b"RIFF new prompt")
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_voice_point_of_contact_turned_digital_leaves_bcp_and_a_chat_one_turned_voice_arrives(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    voice, chat = primary.of("points-of-contact", "voice"), primary.of("points-of-contact", "chat")
    ops.call("PATCH", primary.url("points-of-contact", voice), json={"channel": "sms"})
    ops.call("PATCH", primary.url("points-of-contact", chat), json={"channel": "voice", "address": "+15550001111"})

    run = run_now(ops, platform, primary.id)

    assert change_counts(run) == {"points-of-contact": {"created": 1, "deleted": 1}}
    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
    assert [p["address"] for p in mirror.bcp["points-of-contact"].values()] == ["+15550001111"]


def test_after_the_first_run_a_bcp_only_entity_is_never_adopted(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    own = ops.call("POST", entity_url(bcp["id"], "dispositions"), json={"name": "Callback"}, expect=201)
    made = ops.call(
        "POST", primary.url("dispositions"), json={"name": "Callback", "classification": "positive"}, expect=201
    )

    run = run_now(ops, platform, primary.id)

    assert change_counts(run) == {"dispositions": {"failed": 1}}
    assert [(e["code"], e["primary_id"]) for e in run["errors"]] == [("natural_key_taken", made["id"])]
    assert ops.get(entity_url(bcp["id"], "dispositions", own["id"])) == own
    assert ("dispositions", made["id"]) not in correlation_map(ops, primary.id)


def test_a_deletion_that_a_bcp_only_entity_still_needs_is_refused_and_reported(platform, ops):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    escalated = primary.of("dispositions", "escalated")
    local = ops.call(
        "POST",
        entity_url(bcp["id"], "skills"),
        expect=201,
        json={"name": "BCP overflow", "disposition_ids": [corr[("dispositions", escalated)]]},
    )
    ops.call(
        "PATCH",
        primary.url("skills", primary.of("skills", "billing")),
        json={"disposition_ids": [primary.of("dispositions", "resolved")]},
    )
    ops.call("DELETE", primary.url("dispositions", escalated), expect=204)

    run = run_now(ops, platform, primary.id)

    assert run["status"] == "succeeded"
    assert change_counts(run) == {"skills": {"updated": 1}, "dispositions": {"failed": 1}}
    assert [(e["code"], e["primary_id"], e["bcp_id"]) for e in run["errors"]] == [
        ("in_use_by_bcp_entity", escalated, corr[("dispositions", escalated)])
    ]
    assert ops.get(entity_url(bcp["id"], "skills", local["id"])) == local
    assert ops.get(entity_url(bcp["id"], "dispositions", corr[("dispositions", escalated)]))["name"] == "Escalated"


def test_a_stored_script_that_cannot_be_read_is_copied_and_reported_without_stopping_the_run(platform, ops):
    primary, bcp = paired(ops)
    region = platform.region("na1")
    with region.db.write() as conn:  # stored before the rules tightened: it would be refused today
        from lifeboat.domain.entities import Entity
        from lifeboat.store.tables import now

        repo = EntityRepo(conn, region.id_block)
        broken = Entity(
            repo.new_ids()[0],
            primary.id,
            "scripts",
            {"path": "Legacy/Broken", "media_type": "voice", "content": "{not json", "is_active": True},
            now(),
            now(),
        )
        repo.insert(broken)
    first = enable_sync(ops, primary.id)
    work(platform)

    run = get_run(ops, primary.id, first["id"])

    assert run["status"] == "succeeded" and run["counts"]["scripts"]["created"] == 2
    assert [(w["code"], w["primary_id"]) for w in run["warnings"]] == [("script_unreadable", broken.id)]
    corr = correlation_map(ops, primary.id)
    assert ops.get(entity_url(bcp["id"], "scripts", corr[("scripts", broken.id)]))["content"] == "{not json"
    unreadable = [
        i for i in ops.get(bcp_url(primary.id, "/script-checklist"))["items"] if i["script"] == "Legacy/Broken"
    ]
    assert [(i["status"], i["primary_script_id"]) for i in unreadable] == [("unreadable", broken.id)]


def test_runs_are_listed_newest_first_and_correlations_filter_by_type(platform, ops):
    primary, bcp, first = synced(ops, platform)
    second = run_now(ops, platform, primary.id)
    other, _, _ = synced(ops, platform)
    others_run = ops.get(bcp_url(other.id, "/sync-runs"))["items"][0]

    history = ops.get(bcp_url(bcp["id"], "/sync-runs"))
    assert [r["id"] for r in history["items"]] == [second["id"], first["id"]] and history["total"] == 2
    assert ops.get(bcp_url(primary.id, "/sync-runs"), limit=1, offset=1)["items"][0]["id"] == first["id"]
    missing = ops.request("GET", bcp_url(primary.id, f"/sync-runs/{others_run['id']}"))
    assert missing.status_code == 404 and error_code(missing) == "sync_run_not_found"

    skills = ops.get(bcp_url(primary.id, "/correlations"), type="skills")
    assert skills["total"] == 3 and {c["type"] for c in skills["items"]} == {"skills"}
    assert {c["name"] for c in skills["items"]} == {"Billing", "Support", "Chat sales"}
    unknown = ops.request("GET", bcp_url(primary.id, "/correlations"), params={"type": "queues"})
    assert unknown.status_code == 404 and error_code(unknown) == "unknown_entity_type"


def test_an_edit_in_bcp_while_a_run_is_applying_is_kept_and_decided_by_the_next_run(platform, ops, monkeypatch):
    primary, bcp, _ = synced(ops, platform)
    corr = correlation_map(ops, primary.id)
    support = primary.of("skills", "support")
    ops.call("PATCH", primary.url("skills", support), json={"name": "Support (primary)"})
    real_apply = sync_service.apply_plan

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:  # the run has planned; someone edits BCP
        ops.call("PATCH", entity_url(bcp["id"], "skills", corr[("skills", support)]), json={"name": "Support (BCP)"})
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(sync_service, "apply_plan", edited_meanwhile)
    run = run_now(ops, platform, primary.id)
    monkeypatch.setattr(sync_service, "apply_plan", real_apply)

    assert run["status"] == "succeeded"
    assert change_counts(run) == {"skills": {"failed": 1}}
    assert [(e["code"], e["primary_id"]) for e in run["errors"]] == [("changed_during_sync", support)]
    assert ops.get(entity_url(bcp["id"], "skills", corr[("skills", support)]))["name"] == "Support (BCP)"

    after = run_now(ops, platform, primary.id)

    assert change_counts(after) == {"skills": {"updated": 1}}
    assert [(d["bcp_id"], d["fields"]) for d in after["drift"]] == [(corr[("skills", support)], ["name"])]
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_desktop_studio_xml_script_and_list_values_are_remapped_too(platform, ops):
    primary, bcp = paired(ops)
    billing, support = primary.of("skills", "billing"), primary.of("skills", "support")
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Script><!-- exported -->'
        f'<ActionStruct><Action ID="7" Name="REQAGENT"/><Parameters><Parameter Name="Skill">{billing}</Parameter>'
        '<Parameter Name="TargetAgent">Default</Parameter></Parameters></ActionStruct>'
        f'<ActionStruct><Action ID="8" Name="SUPPRESSCALL"/><Parameters><Parameter Name="Disposition">'
        f"{primary.of('dispositions', 'escalated')}</Parameter></Parameters></ActionStruct></Script>"
    )
    listed = {
        "actions": {"1": {"name": "REQAGENT (digital)"}},
        "properties": {"1": {"0": {"name": "Skill", "value": [str(support), "{Fallback}", str(billing)]}}},
    }
    xml_id = ops.call("POST", primary.url("scripts"), json={"path": "Desktop/Export", "content": xml}, expect=201)["id"]
    list_id = ops.call("POST", primary.url("scripts"), json={"path": "Digital/List", "content": listed}, expect=201)[
        "id"
    ]
    enable_sync(ops, primary.id)
    work(platform)
    corr = correlation_map(ops, primary.id)

    bcp_xml = ops.get(entity_url(bcp["id"], "scripts", corr[("scripts", xml_id)]))["content"]
    bcp_list = ops.get(entity_url(bcp["id"], "scripts", corr[("scripts", list_id)]))["content"]

    assert f'<Parameter Name="Skill">{corr[("skills", billing)]}</Parameter>' in bcp_xml
    assert (
        f'<Parameter Name="Disposition">{corr[("dispositions", primary.of("dispositions", "escalated"))]}</Parameter>'
        in bcp_xml
    )
    assert "<!-- exported -->" in bcp_xml and str(billing) not in bcp_xml
    assert bcp_list["properties"]["1"]["0"]["value"] == [
        str(corr[("skills", support)]),
        "{Fallback}",
        str(corr[("skills", billing)]),
    ]
    rows = [
        (i["script"], i["action"], i["position"], i["status"])
        for i in ops.get(bcp_url(primary.id, "/script-checklist"))["items"]
        if i["script"] != "Inbound/Main"
    ]
    assert sorted(rows, key=str) == sorted(
        [
            ("Desktop/Export", "REQAGENT", None, "remapped"),
            ("Desktop/Export", "REQAGENT", None, "unchanged"),
            ("Desktop/Export", "SUPPRESSCALL", None, "remapped"),
            ("Digital/List", "REQAGENT (digital)", 0, "remapped"),
            ("Digital/List", "REQAGENT (digital)", 1, "unchanged"),
            ("Digital/List", "REQAGENT (digital)", 2, "remapped"),
        ],
        key=str,
    )


def test_a_run_while_the_primary_region_is_down_fails_with_its_code_and_writes_nothing(platform, ops, monkeypatch):
    primary, bcp, _ = synced(ops, platform)
    ops.call("PATCH", primary.url("skills", primary.of("skills", "billing")), json={"name": "Billing (later)"})
    before = bcp_state(ops, primary.id, bcp["id"])
    na1 = platform.region("na1").db

    @contextmanager
    def unreachable(*, write: bool) -> Iterator[Any]:
        raise Unavailable(
            "The database of na1 cannot be reached.", code="region_unavailable", details={"region": "na1"}
        )
        yield  # pragma: no cover

    monkeypatch.setattr(na1, "_connect", unreachable)
    down = run_now(ops, platform, bcp["id"])  # asked from the BCP tenant: the primary cannot answer
    monkeypatch.undo()

    assert down["status"] == "failed"
    assert [(e["code"], e.get("region")) for e in down["errors"]] == [("region_unavailable", "na1")]
    assert bcp_state(ops, primary.id, bcp["id"]) == before
    up = run_now(ops, platform, primary.id)
    assert up["status"] == "succeeded" and change_counts(up) == {"skills": {"updated": 1}}
