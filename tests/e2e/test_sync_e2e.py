"""The sync end to end: a real ``lifeboat serve`` over real HTTP, whose in-process worker
carries out the runs (SPEC §4, §9), on SQLite and PostgreSQL.

Pair, enable, wait for the server's worker; then every BCP entity is checked field by field
against the primary, with every reference followed through ``GET /bcp/correlations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lifeboat.store.audit import AuditRepo
from lifeboat.store.directory import TenantRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import region_audit
from tests.e2e.lifeboat_process import LifeboatServer
from tests.sync_fixture import (
    API,
    Http,
    Primary,
    assert_bcp_mirrors_primary,
    build_primary,
    change_counts,
    correlation_map,
    enable_sync,
    entity_url,
    error_code,
    new_tenant,
    pair,
    read_tenant,
    store_platform,
    voice_number,
    wait_for_run,
)


@pytest.fixture
def ops(lifeboat_server: LifeboatServer) -> Http:
    return Http(lifeboat_server.operator())


@pytest.fixture(scope="module")
def store(shared_installation) -> Iterator[Any]:
    """The server's databases, read directly (what the API never shows)."""
    platform = store_platform(shared_installation.data_dir, shared_installation.config)
    yield platform
    platform.close()


def bcp_url(tenant_id: int, rest: str = "") -> str:
    return f"{API}/tenants/{tenant_id}/bcp{rest}"


def run_now(ops: Http, tenant_id: int, **body: Any) -> dict[str, Any]:
    queued = ops.call("POST", bcp_url(tenant_id, "/sync-runs"), json=body or None, expect=202)
    return wait_for_run(ops, tenant_id, queued["id"])


def synced_pair(ops: Http) -> tuple[Primary, dict[str, Any], str, dict[str, Any]]:
    """A primary and a BCP tenant, paired, sync enabled, first run done by the server."""
    primary = build_primary(ops, "na1")
    bcp = new_tenant(ops, "eu1")
    passkey = pair(ops, primary.id, bcp["id"])
    first = enable_sync(ops, primary.id)
    run = wait_for_run(ops, primary.id, first["id"])
    assert run["status"] == "succeeded", run
    return primary, bcp, passkey, run


def stored(store, tenant_id: int, type_name: str, entity_id: int):
    """An entity straight from its region's database."""
    with store.directory.read() as conn:
        region = store.region(TenantRepo(conn).get(tenant_id).region)
    with region.db.read() as conn:
        return EntityRepo(conn, region.id_block).get(tenant_id, type_name, entity_id)


def test_pair_enable_and_the_servers_worker_makes_bcp_a_faithful_copy(ops, store):
    primary, bcp, _, run = synced_pair(ops)

    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)

    assert run["trigger"] == "enable" and run["attempts"] == 1
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
    assert [p["channel"] for p in mirror.bcp["points-of-contact"].values()] == ["voice"]
    team = mirror.bcp_of("teams", primary.of("teams", "tier1"))
    lead = mirror.bcp_of("users", primary.of("users", "lead"))
    assert (team["lead_user_id"], lead["team_id"]) == (lead["id"], team["id"])
    for label in ("lead", "agent"):  # passwords travel as their argon2 hashes
        p_user = stored(store, primary.id, "users", primary.of("users", label))
        b_user = stored(store, bcp["id"], "users", mirror.corr[("users", p_user.id)])
        assert b_user.data["password_hash"] == p_user.data["password_hash"]
    checklist = ops.get(bcp_url(bcp["id"], "/script-checklist"))["items"]
    assert sorted(i["status"] for i in checklist) == ["possible_id"] + ["remapped"] * 5 + ["unchanged"] * 3
    plan = ops.get(bcp_url(bcp["id"]))
    assert plan["last_run"]["id"] == run["id"] and plan["last_successful_run_at"] == run["finished_at"]
    assert plan["next_run_at"] is not None and plan["open_run"] is None


def test_changes_reach_bcp_local_entities_survive_drift_is_reported_and_a_rerun_changes_nothing(ops, store):
    primary, bcp, _, _ = synced_pair(ops)
    corr = correlation_map(ops, primary.id)
    local = ops.call("POST", entity_url(bcp["id"], "dispositions"), json={"name": "BCP only"}, expect=201)
    edited = corr[("roles", primary.of("roles", "supervisor"))]
    ops.call("PATCH", entity_url(bcp["id"], "roles", edited), json={"permissions": ["admin.view"]})
    ops.call("PATCH", primary.url("skills", primary.of("skills", "support")), json={"name": "Support (tier 2)"})
    ops.call(
        "PATCH",
        primary.url("hours-of-operation", primary.of("hours-of-operation", "weekend")),
        json={"is_active": False},
    )
    ops.call("DELETE", primary.url("agent-settings", primary.of("agent-settings", "agent")), expect=204)
    ops.call(
        "POST",
        primary.url("points-of-contact"),
        expect=201,
        json={
            "name": "Second line",
            "channel": "voice",
            "address": voice_number(primary.id + 1),
            "skill_id": primary.of("skills", "support"),
        },
    )

    run = run_now(ops, primary.id)

    assert run["status"] == "succeeded", run
    assert change_counts(run) == {
        "roles": {"updated": 1},
        "skills": {"updated": 1},
        "hours-of-operation": {"deactivated": 1},
        "agent-settings": {"deleted": 1},
        "points-of-contact": {"created": 1},
    }
    assert [(d["type"], d["bcp_id"], d["fields"]) for d in run["drift"]] == [("roles", edited, ["permissions"])]
    mirror = assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
    assert mirror.bcp["dispositions"][local["id"]] == local
    assert mirror.bcp["agent-settings"] == {}
    assert mirror.bcp_of("hours-of-operation", primary.of("hours-of-operation", "weekend"))["is_active"] is False

    before = read_tenant(ops, bcp["id"])
    again = run_now(ops, bcp["id"])

    assert again["status"] == "succeeded" and change_counts(again) == {} and again["drift"] == []
    assert sum(c["unchanged"] for c in again["counts"].values()) == len(mirror.corr)
    assert read_tenant(ops, bcp["id"]) == before
    with store.region("eu1").db.read() as conn:  # the audit trail names what each run did
        rows, _ = AuditRepo(conn, region_audit).page(bcp["id"], limit=1000, offset=0)
    by_run = [r["action"] for r in rows if r["actor"] == f"sync:run {run['id']}"]
    assert sorted(by_run) == sorted(
        [
            "roles.sync_update",
            "skills.sync_update",
            "hours-of-operation.sync_deactivate",
            "agent-settings.sync_delete",
            "points-of-contact.sync_create",
        ]
    )
    assert not [r for r in rows if r["actor"] == f"sync:run {again['id']}"]


def test_the_dry_run_over_http_shows_what_a_run_would_do_and_writes_nothing(ops):
    primary, bcp, _, _ = synced_pair(ops)
    corr = correlation_map(ops, primary.id)
    ops.call("PATCH", primary.url("users", primary.of("users", "agent")), json={"last_name": "Agent-Smith"})
    ops.call("DELETE", primary.url("points-of-contact", primary.of("points-of-contact", "voice")), expect=204)
    before = (read_tenant(ops, bcp["id"]), correlation_map(ops, primary.id))

    plan = ops.call("POST", bcp_url(primary.id, "/plan"))

    assert sorted(
        (c["action"], c["type"], c["primary_id"], c["bcp_id"], tuple(c["fields"])) for c in plan["changes"]
    ) == [
        (
            "delete",
            "points-of-contact",
            primary.of("points-of-contact", "voice"),
            corr[("points-of-contact", primary.of("points-of-contact", "voice"))],
            (),
        ),
        (
            "update",
            "users",
            primary.of("users", "agent"),
            corr[("users", primary.of("users", "agent"))],
            ("last_name",),
        ),
    ]
    assert (read_tenant(ops, bcp["id"]), correlation_map(ops, primary.id)) == before
    assert ops.get(bcp_url(primary.id, "/sync-runs"))["total"] == 1


def test_pairing_problems_and_the_passkey_over_http(lifeboat_server, ops):
    primary, bcp, other = new_tenant(ops, "na1"), new_tenant(ops, "eu1"), new_tenant(ops, "na1")

    checked = ops.call("POST", bcp_url(primary["id"], "/validate"), json={"bcp_tenant_id": other["id"]})
    assert checked == {"ok": False, "problems": [{"code": "same_region", "message": checked["problems"][0]["message"]}]}
    passkey = pair(ops, primary["id"], bcp["id"])
    again = ops.call("POST", bcp_url(primary["id"], "/validate"), json={"bcp_tenant_id": bcp["id"]})
    assert sorted(p["code"] for p in again["problems"]) == ["already_paired", "already_paired"]
    assert passkey not in ops.request("GET", bcp_url(bcp["id"])).text

    new_passkey = ops.call("POST", bcp_url(primary["id"], "/passkey"))["passkey"]

    wrong = ops.request("POST", bcp_url(primary["id"], "/switch"), json={"to": "bcp", "passkey": passkey})
    assert wrong.status_code == 403 and error_code(wrong) == "wrong_passkey"  # the old passkey stopped working
    switched = ops.call("POST", bcp_url(primary["id"], "/switch"), json={"to": "bcp", "passkey": new_passkey})
    assert switched["active_side"] == "bcp"


def test_while_bcp_is_active_sync_is_paused_and_resumes_after_revert(lifeboat_server, ops):
    primary, bcp, passkey, _ = synced_pair(ops)
    ops.call("POST", bcp_url(primary.id, "/switch"), json={"to": "bcp", "passkey": passkey})
    ops.call("PATCH", primary.url("skills", primary.of("skills", "billing")), json={"name": "Billing (during BCP)"})
    before = read_tenant(ops, bcp["id"])

    refused = ops.request("POST", bcp_url(bcp["id"], "/sync-runs"), json={"force": True})

    assert refused.status_code == 409 and error_code(refused) == "sync_paused"
    assert ops.get(bcp_url(primary.id))["sync_paused"] is True
    assert read_tenant(ops, bcp["id"]) == before

    ops.call("POST", bcp_url(primary.id, "/switch"), json={"to": "primary", "passkey": passkey})
    run = run_now(ops, primary.id)
    assert change_counts(run) == {"skills": {"updated": 1}}
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
