"""The primary region's PostgreSQL server stops, and the contact center carries on in BCP
(SPEC §5–§8): a live ``lifeboat serve`` driven over real HTTP.

The primary region (na1) has a PostgreSQL server of its own, which the test stops and
starts again; the directory and the BCP region (eu1) live on the session's server and stay
up. Through the API only: a small contact center is built, paired and synced by the
in-process worker; then, with na1 down, a ``multiple`` administrator logs in to the BCP
tenant and switches with the passkey, ``single`` agents land in BCP, a ``none`` user is
refused, and the number routes to eu1. When na1 is back, nothing switches back by
itself: routing stays on BCP and sync stays paused until the administrator reverts.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from tests.alert_receivers import WebhookReceiver
from tests.e2e.lifeboat_process import (
    API,
    Installation,
    LifeboatServer,
    create_operator,
    error_code,
    region,
    wait_until,
)
from tests.postgres_server import PostgresServer, _start_local_server

PASSWORD = "employee-password-1"
NUMBER = "+15557010001"
ADMIN_PERMISSIONS = [
    "admin.view",
    "admin.edit",
    "bcp.sync.view",
    "bcp.sync.edit",
    "bcp.enablement.view",
    "bcp.enablement.edit",
]
SWITCH_BUDGET_S = 1.0
_names = itertools.count()

pytestmark = pytest.mark.postgres


@pytest.fixture
def primary_server(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A second, throwaway PostgreSQL server: the primary region's, to stop and start."""
    server, cluster = _start_local_server()
    try:
        yield server
    finally:
        cluster.remove()


@pytest.fixture
def install(request, postgres_server, postgres_templates, primary_server, tmp_path) -> Installation:
    """Directory and eu1 on the session's server; na1 alone on ``primary_server`` (created
    empty: ``lifeboat serve`` migrates it)."""
    prefix = f"pdown{os.getpid()}_{next(_names)}"
    names = {"directory": f"{prefix}_directory", "eu1": f"{prefix}_eu1"}

    def drop() -> None:
        for name in names.values():
            with contextlib.suppress(Exception):
                postgres_server.drop_database(name)

    request.addfinalizer(drop)
    directory = postgres_server.create_database(names["directory"], template=postgres_templates["directory"])
    eu1 = postgres_server.create_database(names["eu1"], template=postgres_templates["region"])
    na1 = primary_server.create_database(f"{prefix}_na1")
    return Installation.with_config(
        "postgres",
        tmp_path / "data",
        tmp_path / "lifeboat.toml",
        directory_url=directory,
        regions=[region("na1", 1, na1), region("eu1", 2, eu1)],
    )


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def server(install, start_lifeboat) -> LifeboatServer:
    create_operator(install)
    # A fresh routing table on every lookup, and a region monitor that looks often: what the
    # test sees right after na1 comes back is what the server knows then, not a cache.
    return start_lifeboat(
        install,
        env={
            "LIFEBOAT_ROUTE_CACHE_TTL_S": "0",
            "LIFEBOAT_REGION_CHECK_S": "0.3",
            "LIFEBOAT_ALERT_ALLOW_PRIVATE_NETWORKS": "true",
        },
    )  # the receiver is on 127.0.0.1


def ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def login(server: LifeboatServer, username: str, tenant_id: int | None = None) -> httpx2.Response:
    body = {"username": username, "password": PASSWORD, **({"tenant_id": tenant_id} if tenant_id else {})}
    return server.http.post(f"{API}/auth/login", json=body)


def client_of(server: LifeboatServer, answer: httpx2.Response) -> httpx2.Client:
    return server.client({"Authorization": f"Bearer {ok(answer)['token']}"})


# ---------------------------------------------------------------------- the contact center


@dataclass
class ContactCenter:
    primary: dict[str, Any]
    bcp: dict[str, Any]
    passkey: str
    admin: str  # multiple, may switch
    agents: list[str]  # single
    clerk: str  # none
    primary_ids: dict[str, int]

    def url(self, rest: str, side: str = "primary") -> str:
        return f"{API}/tenants/{(self.primary if side == 'primary' else self.bcp)['id']}{rest}"


def build_contact_center(ops: httpx2.Client) -> ContactCenter:
    """A voice line to a Billing skill with two agents, an administrator and a clerk, in na1;
    an empty BCP tenant in eu1; the two paired."""
    tag = next(_names)
    primary = ok(ops.post(f"{API}/tenants", json={"name": f"Acme {tag}", "region": "na1"}), 201)
    bcp = ok(ops.post(f"{API}/tenants", json={"name": f"Acme BCP {tag}", "region": "eu1"}), 201)
    base = f"{API}/tenants/{primary['id']}"

    def make(type_name: str, payload: dict[str, Any]) -> int:
        return ok(ops.post(f"{base}/{type_name}", json=payload), 201)["id"]

    skill = make("skills", {"name": "Billing", "media_type": "voice"})
    roles = {
        name: make("roles", {"name": name, "permissions": permissions})
        for name, permissions in (("BCP admin", ADMIN_PERMISSIONS), ("Agent", ["agent"]), ("Clerk", ["acd.view"]))
    }
    people = {"admin": "BCP admin", "agent1": "Agent", "agent2": "Agent", "clerk": "Clerk"}
    users = {}
    for label, role in people.items():
        username = f"{label}{primary['id']}"
        users[label] = make(
            "users",
            {
                "username": username,
                "email": f"{username}@example.com",
                "first_name": label.title(),
                "last_name": "Acme",
                "role_id": roles[role],
                "password": PASSWORD,
            },
        )
        if label.startswith("agent"):
            make("agent-settings", {"user_id": users[label], "skills": [{"skill_id": skill, "proficiency": 5}]})
    script = {
        "header": {"name": "Main"},
        "actions": {"1": {"name": "BEGIN"}, "2": {"name": "REQAGENT"}},
        "properties": {"2": {"0": {"name": "Skill", "value": str(skill)}}},
        "branches": {"1": {"Default": "2"}},
    }
    make("scripts", {"path": "Inbound/Main", "media_type": "voice", "content": script})
    poc = make(
        "points-of-contact",
        {"name": "Main line", "channel": "voice", "address": NUMBER, "skill_id": skill, "script_path": "Inbound/Main"},
    )
    passkey = ok(ops.post(f"{base}/bcp", json={"bcp_tenant_id": bcp["id"]}), 201)["passkey"]
    return ContactCenter(
        primary,
        bcp,
        passkey,
        f"admin{primary['id']}",
        [f"agent{n}{primary['id']}" for n in (1, 2)],
        f"clerk{primary['id']}",
        {"skill": skill, "poc": poc, **users},
    )


def set_bcp_types(ops: httpx2.Client, cc: ContactCenter) -> None:
    """The administrator one by one (users API), the others from a CSV."""
    user = ok(ops.patch(cc.url(f"/users/{cc.primary_ids['admin']}"), json={"bcp_type": "multiple"}))
    assert user["bcp_type"] == "multiple"
    csv = "username,bcp_type\n" + "".join(f"{a},single\n" for a in cc.agents) + f"{cc.clerk},none\n"
    answer = ok(ops.post(cc.url("/users/bcp-types"), content=csv.encode(), headers={"Content-Type": "text/csv"}))
    assert (answer["applied"], answer["unchanged"], answer["errors"]) == (2, 1, 0), answer


def sync_and_wait(admin: httpx2.Client, cc: ContactCenter) -> dict[str, Any]:
    """Enable sync; the server's own worker carries out the first run."""
    first = ok(admin.put(cc.url("/bcp/sync-settings"), json={"enabled": True}))["first_run"]
    run = wait_for_run(admin, cc, first["id"])
    assert run["status"] == "succeeded", run
    return run


def wait_for_run(admin: httpx2.Client, cc: ContactCenter, run_id: int) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = ok(admin.get(cc.url(f"/bcp/sync-runs/{run_id}")))
        return run if run["status"] in ("succeeded", "failed", "held") else None

    return wait_until(finished, timeout=120, what=f"sync run {run_id} to finish")


def bcp_copy(ops: httpx2.Client, cc: ContactCenter, type_name: str, key: str, value: str) -> dict[str, Any]:
    (found,) = [
        e for e in ok(ops.get(cc.url(f"/{type_name}", "bcp"), params={"limit": 1000}))["items"] if e[key] == value
    ]
    return found


def switch(client: httpx2.Client, cc: ContactCenter, to: str, side: str) -> dict[str, Any]:
    """Switch or revert, timed from the client's side too."""
    started = time.perf_counter()
    answer = ok(client.post(cc.url("/bcp/switch", side), json={"to": to, "passkey": cc.passkey}))
    elapsed = time.perf_counter() - started
    assert answer["active_side"] == to
    assert answer["switch_ms"] < SWITCH_BUDGET_S * 1000, answer["switch_ms"]
    assert elapsed < SWITCH_BUDGET_S, f"the switch took {elapsed:.3f}s over HTTP"
    return answer


# ------------------------------------------------------------------------------- the test


def test_with_the_primary_server_stopped_bcp_takes_over_and_keeps_the_calls_when_it_returns(
    server, primary_server, hooks
):
    ops = server.operator()
    cc = build_contact_center(ops)
    set_bcp_types(ops, cc)
    subscription = ok(
        ops.post(
            cc.url("/alert-subscriptions", "bcp"),
            json={
                "kind": "webhook",
                "target": hooks.url,
                "events": ["region_down", "region_up", "switched", "reverted"],
            },
        ),
        201,
    )
    admin = server.login(cc.admin, PASSWORD, cc.primary["id"])
    sync_and_wait(admin, cc)
    bcp_poc = bcp_copy(ops, cc, "points-of-contact", "address", NUMBER)
    bcp_agents = {a: bcp_copy(ops, cc, "users", "username", a) for a in cc.agents}
    assert all(u["bcp_type"] == "single" for u in bcp_agents.values())
    voice = server.client(
        {"Authorization": f"Bearer {ok(ops.post(f'{API}/voice/tokens', json={'name': 'edge'}), 201)['token']}"}
    )
    on_primary = ok(voice.get(f"{API}/voice/route", params={"number": NUMBER}))
    assert (on_primary["tenant_id"], on_primary["region"], on_primary["point_of_contact_id"]) == (
        cc.primary["id"],
        "na1",
        cc.primary_ids["poc"],
    )
    epoch = ok(admin.get(cc.url("/bcp")))["epoch"]

    primary_server.stop()

    # The region is down, and says so without a login; the BCP side is up.
    status = server.status()
    assert {r["name"]: r["status"] for r in status["regions"]} == {"na1": "down", "eu1": "up"}
    assert status["directory"] == "up"
    (down,) = hooks.wait_for("region_down")
    assert down.json()["region"] == "na1" and down.signature_is_valid(subscription["secret"])

    # The multiple administrator sees both tenants, enters BCP and switches with the passkey.
    choice = ok(login(server, cc.admin))["choose"]
    assert {(c["tenant_id"], c["kind"], c["active"]) for c in choice} == {
        (cc.primary["id"], "primary", True),
        (cc.bcp["id"], "bcp", False),
    }
    bcp_admin = client_of(server, login(server, cc.admin, cc.bcp["id"]))
    switched = switch(bcp_admin, cc, "bcp", "bcp")
    assert (switched["epoch"], switched["sync_paused"], switched["active_tenant_id"]) == (epoch + 1, True, cc.bcp["id"])
    assert switched["sessions_ended"] >= 2 and switched["readiness"]["active_side"] == "bcp"
    readiness = {c["name"]: c["status"] for c in switched["readiness"]["checks"]}
    assert set(readiness.values()) == {"pass"}, readiness  # synced, staffed, every reference resolved
    assert error_code(bcp_admin.get(cc.url("/bcp", "bcp"))) == "invalid_token"  # every session ended
    hooks.wait_for("switched")

    # Single agents land in BCP on their own; a user without BCP access is refused.
    for agent, copy in bcp_agents.items():
        entered = ok(login(server, agent))
        assert (entered["tenant"]["id"], entered["user"]["id"]) == (cc.bcp["id"], copy["id"])
        refused = login(server, agent, cc.primary["id"])
        assert refused.status_code == 403 and error_code(refused) == "bcp_access_denied"
    refused = login(server, cc.clerk)
    assert refused.status_code == 403 and error_code(refused) == "bcp_access_denied"

    # The number now rings in eu1.
    expected_bcp_route = {
        "number": NUMBER,
        "tenant_id": cc.bcp["id"],
        "tenant_kind": "bcp",
        "region": "eu1",
        "cluster": "sip:eu1.voice.lifeboat.test",
        "point_of_contact_id": bcp_poc["id"],
        "skill_id": bcp_poc["skill_id"],
        "script_path": "Inbound/Main",
    }
    assert_route(voice, expected_bcp_route)
    assert_route(ops, expected_bcp_route)

    primary_server.start()

    # na1 is back, and lifeboat has noticed; nothing switches back by itself.
    wait_until(lambda: server.region_status() == {"na1": "up", "eu1": "up"}, timeout=30, what="na1 up in /status")
    hooks.wait_for("region_up")
    assert_route(voice, expected_bcp_route)
    admin = client_of(server, login(server, cc.admin, cc.primary["id"]))
    plan = ok(admin.get(cc.url("/bcp")))
    assert (plan["active_side"], plan["epoch"], plan["sync_paused"]) == ("bcp", epoch + 1, True)
    paused = admin.post(cc.url("/bcp/sync-runs"), json={"force": True})
    assert paused.status_code == 409 and error_code(paused) == "sync_paused"
    assert ok(login(server, cc.agents[0]))["tenant"]["id"] == cc.bcp["id"]
    about_na1 = [d.event for d in hooks.deliveries if d.json().get("region", "na1") == "na1"]
    assert about_na1 == ["region_down", "switched", "region_up"]

    # Until the administrator reverts: then calls, logins and sync go back to the primary.
    reverted = switch(admin, cc, "primary", "primary")
    assert (reverted["epoch"], reverted["sync_paused"]) == (epoch + 2, False)
    assert_route(
        voice,
        {
            "number": NUMBER,
            "tenant_id": cc.primary["id"],
            "tenant_kind": "primary",
            "region": "na1",
            "cluster": "sip:na1.voice.lifeboat.test",
            "point_of_contact_id": cc.primary_ids["poc"],
            "skill_id": cc.primary_ids["skill"],
            "script_path": "Inbound/Main",
        },
    )
    entered = ok(login(server, cc.agents[0]))
    assert (entered["tenant"]["id"], entered["user"]["id"]) == (cc.primary["id"], cc.primary_ids["agent1"])
    assert ok(login(server, cc.clerk))["tenant"]["id"] == cc.primary["id"]
    hooks.wait_for("reverted")
    admin = client_of(server, login(server, cc.admin, cc.primary["id"]))
    resumed = ok(admin.post(cc.url("/bcp/sync-runs")), 202)
    assert wait_for_run(admin, cc, resumed["id"])["status"] == "succeeded"


def assert_route(client: httpx2.Client, expected: dict[str, Any]) -> None:
    answer = ok(client.get(f"{API}/voice/route", params={"number": expected["number"]}))
    assert {k: answer.get(k) for k in expected} == expected
