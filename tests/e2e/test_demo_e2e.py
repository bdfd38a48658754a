"""``lifeboat demo`` then ``lifeboat serve``, looked at over HTTP the way a new user does:
is the contact center realistic and internally consistent, and does the paired BCP tenant
fill up once the server's worker has run the first sync? (SPEC §2, §3, §10; issue 2 item 8.)

``test_cli_demo.py`` covers the command's own output and idempotence; this file looks at
what the demo put in the databases, through the API only.
"""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from tests.e2e.lifeboat_process import API, describe, run_lifeboat, wait_until

USERS = 20
COLLECTIONS = [
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
]
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SYNC_TIMEOUT_S = 180


def ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


def everything(api: httpx2.Client, tenant_id: int, type_: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = ok(api.get(f"{API}/tenants/{tenant_id}/{type_}", params={"limit": 1000, "offset": len(items)}))
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


@pytest.fixture
def demo(installation, start_lifeboat):
    """The demo loaded with ``--users 20``, a server over it, and what the demo printed."""
    result = run_lifeboat("demo", *installation.flags(), "--users", str(USERS))
    assert result.returncode == 0, describe(result)
    printed = result.stdout
    primary = int(re.search(r"Primary tenant: .* id (\d+), region na1", printed).group(1))
    bcp = int(re.search(r"BCP tenant: .* id (\d+), region eu1", printed).group(1))
    password = re.search(r"password of every demo account: (\S+)", printed).group(1)
    server = start_lifeboat(installation)
    return {
        "server": server,
        "primary": primary,
        "bcp": bcp,
        "password": password,
        "printed": printed,
        "operator": server.login("operator", password),
    }


def test_demo_contact_center_is_complete_and_consistent(demo):
    ops, primary = demo["operator"], demo["primary"]
    data = {t: everything(ops, primary, t) for t in COLLECTIONS}
    ids = {t: {e["id"] for e in items} for t, items in data.items()}

    assert all(data[t] for t in COLLECTIONS), {t: len(v) for t, v in data.items()}
    assert len(data["users"]) == USERS
    # Every user has agent settings whose skills exist; every team has a lead who is a user.
    assert sorted(a["user_id"] for a in data["agent-settings"]) == sorted(ids["users"])
    assert all(
        s["skill_id"] in ids["skills"] and 1 <= s["proficiency"] <= 20
        for a in data["agent-settings"]
        for s in a["skills"]
    )
    assert all(t["lead_user_id"] in ids["users"] for t in data["teams"])
    assert all(u["role_id"] in ids["roles"] for u in data["users"])
    assert any(u["team_id"] in ids["teams"] for u in data["users"])
    assert all(s["hours_of_operation_id"] in ids["hours-of-operation"] | {None} for s in data["skills"])
    # Voice and digital points of contact; voice ones are E.164 and name a real script.
    channels = {p["channel"] for p in data["points-of-contact"]}
    assert "voice" in channels and channels - {"voice"}, channels
    script_paths = {s["path"] for s in data["scripts"]}
    for poc in (p for p in data["points-of-contact"] if p["channel"] == "voice"):
        assert E164.match(poc["address"]), poc
        assert poc["skill_id"] in ids["skills"]
        assert poc["script_path"] in script_paths, poc
    assert all(f["size"] > 0 and len(f["sha256"]) == 64 for f in data["files"])
    bu = ok(ops.get(f"{API}/tenants/{primary}/business-unit"))
    assert bu["time_zone"] != "UTC"


def test_demo_scripts_hold_real_ids_in_reqagent_hours_and_setdisposition(demo):
    ops, primary = demo["operator"], demo["primary"]
    refs = [
        r
        for s in everything(ops, primary, "scripts")
        for r in ok(ops.get(f"{API}/tenants/{primary}/scripts/{s['id']}/references"))["items"]
    ]

    numeric = {(r["action"].upper().split()[0], r["property"]) for r in refs if r["kind"] == "id"}
    assert {("REQAGENT", "Skill"), ("HOURS", "Profile"), ("SETDISPOSITION", "Disposition")} <= numeric, numeric
    for ref in (r for r in refs if r["kind"] == "id"):
        assert ref["exists"] is True, ref
        assert ok(ops.get(f"{API}/tenants/{primary}/{ref['target']}/{ref['value']}"))["id"] == int(ref["value"])


def test_every_printed_account_logs_in_with_its_role(demo):
    server, primary, password = demo["server"], demo["primary"], demo["password"]
    accounts = dict(re.findall(r"(\w+) \(([^)]+)\)", re.search(r"accounts: (.*)", demo["printed"]).group(1)))
    assert {"operator", "admin", "agent1"} <= set(accounts), accounts

    for username in accounts:
        answer = ok(server.http.post(f"{API}/auth/login", json={"username": username, "password": password}))
        if "choose" in answer:  # BCP type "multiple": the account picks the tenant to enter
            assert {c["tenant_id"]: c["kind"] for c in answer["choose"]} == {primary: "primary", demo["bcp"]: "bcp"}
        else:
            assert answer["token"]
    admin = server.login("admin", password, tenant_id=primary)
    agent = server.login("agent1", password, tenant_id=primary)

    assert ok(admin.get(f"{API}/tenants/{primary}/users"))["total"] == USERS
    assert [t["id"] for t in ok(admin.get(f"{API}/tenants"))["items"]] == [primary]
    # An agent takes calls; the configuration is not theirs to read or change.
    assert agent.get(f"{API}/tenants/{primary}/skills").status_code == 403
    assert agent.post(f"{API}/tenants/{primary}/skills", json={"name": "Mine"}).status_code == 403


def test_served_demo_runs_the_first_sync_into_the_bcp_tenant(demo):
    ops, primary, bcp = demo["operator"], demo["primary"], demo["bcp"]

    def finished_run() -> dict[str, Any] | None:
        runs = ok(ops.get(f"{API}/tenants/{primary}/bcp/sync-runs"))["items"]
        return next((r for r in runs if r["status"] in ("succeeded", "failed", "held")), None)

    run = wait_until(finished_run, timeout=SYNC_TIMEOUT_S, interval=0.5, what="the first sync run to finish")
    full = ok(ops.get(f"{API}/tenants/{primary}/bcp/sync-runs/{run['id']}"))

    assert full["status"] == "succeeded", full
    for type_ in [
        "hours-of-operation",
        "dispositions",
        "skills",
        "roles",
        "teams",
        "users",
        "agent-settings",
        "files",
        "scripts",
    ]:
        primary_keys = len(everything(ops, primary, type_))
        assert len(everything(ops, bcp, type_)) == primary_keys, type_
    voice = [p for p in everything(ops, primary, "points-of-contact") if p["channel"] == "voice"]
    assert sorted(p["address"] for p in everything(ops, bcp, "points-of-contact")) == sorted(
        p["address"] for p in voice
    )
    # Synced users keep the primary's usernames; ids differ and are correlated.
    assert {u["username"] for u in everything(ops, bcp, "users")} == {
        u["username"] for u in everything(ops, primary, "users")
    }
    correlations = ok(ops.get(f"{API}/tenants/{primary}/bcp/correlations", params={"type": "skills"}))["items"]
    assert len(correlations) == len(everything(ops, primary, "skills"))
    assert all(c["primary_id"] != c["bcp_id"] for c in correlations)
