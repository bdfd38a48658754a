"""The demo contact center (demo.center, printed by cli.demo) on SQLite and PostgreSQL: loaded once, complete,
scripts holding real ids of the tenant, and accounts that log in with the printed password."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from lifeboat.cli.demo import print_demo_summary
from lifeboat.demo.center import BCP_TENANT, PRIMARY_TENANT, load_demo
from lifeboat.domain.scripts import find_references, parse_script
from lifeboat.services.tenancy.login import login
from lifeboat.store.audit import AuditRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import region_audit

USERS = 20


@pytest.fixture
def demo(platform):
    return load_demo(platform, users=USERS)


def entities_of(platform, tenant):
    region = platform.region(tenant.region)
    with region.db.read() as conn:
        return EntityRepo(conn, region.id_block).all_of(tenant.id)


def printed(summary) -> str:
    out = io.StringIO()
    print_demo_summary(Console(file=out, width=250, color_system=None), summary)
    return out.getvalue()


def test_demo_loads_a_primary_tenant_in_na1_and_an_empty_bcp_tenant_in_eu1(platform, demo):
    assert (demo.primary.name, demo.primary.region) == (PRIMARY_TENANT, "na1")
    assert (demo.bcp.name, demo.bcp.region) == (BCP_TENANT, "eu1")
    assert [e.type for e in entities_of(platform, demo.bcp)] == ["business-unit"]
    types = {e.type for e in entities_of(platform, demo.primary)}
    assert types == {
        "business-unit",
        "hours-of-operation",
        "dispositions",
        "skills",
        "roles",
        "teams",
        "users",
        "agent-settings",
        "points-of-contact",
        "files",
        "scripts",
    }


def test_demo_business_unit_is_in_new_york_time(platform, demo):
    (unit,) = [e for e in entities_of(platform, demo.primary) if e.type == "business-unit"]
    assert unit.data["time_zone"] == "America/New_York"


def test_second_run_adds_nothing_and_says_it_was_already_loaded(platform, demo):
    before = entities_of(platform, demo.primary)
    again = load_demo(platform, users=USERS)
    assert again.already_loaded and again.created == 0
    assert {t: c.skipped for t, c in again.counts.items()} == {t: c.created for t, c in demo.counts.items()}
    assert sorted(e.id for e in entities_of(platform, demo.primary)) == sorted(e.id for e in before)
    assert (again.primary.id, again.bcp.id) == (demo.primary.id, demo.bcp.id)
    assert "already loaded" in printed(again)


def test_demo_scripts_reference_real_ids_and_paths_of_the_tenant(platform, demo):
    entities = entities_of(platform, demo.primary)
    type_of = {e.id: e.type for e in entities}
    paths = {(e.type, e.data["path"]) for e in entities if e.type in ("files", "scripts")}
    scripts = [e for e in entities if e.type == "scripts"]
    refs = [r for s in scripts for r in find_references(parse_script(s.data["content"]))]
    ids = [r for r in refs if r.kind == "id"]
    assert {r.action for r in ids} >= {"REQAGENT", "HOURS", "SETDISPOSITION"}
    assert [r for r in ids if type_of.get(int(r.value)) != r.target] == []
    assert {r.action for r in refs if r.kind == "path"} >= {"PLAY", "RUNSUB"}
    assert [r for r in refs if r.kind == "path" and (r.target, r.value) not in paths] == []
    contacts = [e for e in entities if e.type == "points-of-contact"]
    assert all(("scripts", c.data["script_path"]) in paths for c in contacts)


def test_team_leads_and_user_teams_point_at_each_other(platform, demo):
    entities = entities_of(platform, demo.primary)
    users = {e.id: e for e in entities if e.type == "users"}
    teams = {e.id: e for e in entities if e.type == "teams"}
    assert all(t.data["lead_user_id"] in users for t in teams.values())
    assert {u.data["team_id"] for u in users.values() if u.data["team_id"] is not None} == set(teams)


def test_demo_accounts_log_in_with_the_printed_password(platform, demo):
    text = printed(demo)
    assert demo.password in text and "http://127.0.0.1:8000/docs" in text and "curl" in text
    choice = login(platform, "admin", demo.password)  # multiple BCP access, and the demo pairs the tenants
    assert [(c["tenant_id"], c["active"]) for c in choice.choose] == [(demo.primary.id, True), (demo.bcp.id, False)]
    admin = login(platform, "admin", demo.password, demo.primary.id)
    assert admin.tenant.id == demo.primary.id
    assert "bcp.enablement.edit" in admin.principal.permissions and "admin.edit" in admin.principal.permissions
    agent = login(platform, "agent1", demo.password)
    assert agent.principal.permissions == {"agent"}
    assert login(platform, "operator", demo.password).principal.is_operator


def test_demo_pairs_its_tenants_and_prints_the_passkey_once(platform, demo):
    assert demo.passkey and demo.passkey in printed(demo)
    again = load_demo(platform, users=USERS)
    assert again.passkey is None and again.already_loaded
    assert "lifeboat passkey" in printed(again)


def test_users_sharing_the_demo_password_share_one_hash(platform, demo):
    users = [e for e in entities_of(platform, demo.primary) if e.type == "users"]
    assert len(users) == USERS and len({u.data["password_hash"] for u in users}) == 1


def test_each_created_entity_has_its_audit_record(platform, demo):
    region = platform.region(demo.primary.region)
    with region.db.read() as conn:
        rows, _ = AuditRepo(conn, region_audit).page(demo.primary.id, limit=100_000, offset=0)
    created = [r for r in rows if r["action"].endswith(".create")]
    assert len(created) == demo.created
    assert all(r["actor"] == "operator:operator" for r in created)
    assert not any("password_hash" in (r["after"] or {}) for r in created)
    assert sum(r["action"] == "bulk.load" for r in rows) == 2  # configuration, then scripts
