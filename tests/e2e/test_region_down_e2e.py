"""A region whose database server stops is *down*; nothing else is (SPEC §1, §8).

The real ``lifeboat serve`` runs with region na1 on a PostgreSQL server of its own, and
the directory and eu1 somewhere else. The test stops na1's server under the running
lifeboat: the status says na1 is down, eu1's tenants keep working, requests for na1 get
503 ``region_unavailable`` at once (no hang), and when the server comes back na1 works
again without restarting lifeboat.

Two layouts:

- ``sqlite-directory``: directory and eu1 on SQLite files, na1 on the session's PostgreSQL
  server (which the test stops and always starts again).
- ``all-postgres``: directory and eu1 on the session's PostgreSQL server, na1 on a second
  throwaway PostgreSQL server started for this module (migrated by lifeboat at start).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

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

pytestmark = pytest.mark.postgres

# A request for a down region must fail fast: lifeboat's connect timeout is 3 s.
FAST_S = 15
PERMISSIONS = ["admin.view", "admin.edit", "acd.view", "acd.edit", "studio.view", "studio.edit"]
PASSWORD = "agent-password-1"


@pytest.fixture(scope="module")
def second_postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own for na1, so that stopping it leaves the rest up."""
    server, cluster = _start_local_server()
    try:
        yield server
    finally:
        cluster.remove()


@dataclass
class Layout:
    install: Installation
    na1_server: PostgresServer  # stopping it takes exactly na1 down


def sqlite_directory(request: pytest.FixtureRequest, tmp_path: Path) -> Layout:
    server = request.getfixturevalue("postgres_server")
    templates = request.getfixturevalue("postgres_templates")
    name = f"e2e_down_{time.monotonic_ns()}"
    url = server.create_database(name, template=templates["region"])
    request.addfinalizer(lambda: _drop(server, name))
    install = Installation.with_config(
        "sqlite-directory",
        tmp_path / "data",
        tmp_path / "lifeboat.toml",
        regions=[region("na1", 1, url), region("eu1", 2)],
    )
    return Layout(install, server)


def all_postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Layout:
    main = request.getfixturevalue("postgres_server")
    templates = request.getfixturevalue("postgres_templates")
    own = request.getfixturevalue("second_postgres_server")
    stamp = time.monotonic_ns()
    directory = main.create_database(f"e2e_dir_{stamp}", template=templates["directory"])
    eu1 = main.create_database(f"e2e_eu1_{stamp}", template=templates["region"])
    na1 = own.create_database(f"e2e_na1_{stamp}")  # empty: lifeboat serve migrates it
    request.addfinalizer(
        lambda: [_drop(main, f"e2e_dir_{stamp}"), _drop(main, f"e2e_eu1_{stamp}"), _drop(own, f"e2e_na1_{stamp}")]
    )
    install = Installation.with_config(
        "all-postgres",
        tmp_path / "data",
        tmp_path / "lifeboat.toml",
        directory_url=directory,
        regions=[region("na1", 1, na1), region("eu1", 2, eu1)],
    )
    return Layout(install, own)


def _drop(server: PostgresServer, name: str) -> None:
    if server.is_running:
        server.drop_database(name)


@pytest.fixture(params=[sqlite_directory, all_postgres], ids=["sqlite-directory", "all-postgres"])
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> Layout:
    return request.param(request, tmp_path)


@dataclass
class Tenant:
    info: dict[str, Any]
    skill: dict[str, Any]
    username: str

    def url(self, type_: str, entity_id: int | None = None) -> str:
        base = f"{API}/tenants/{self.info['id']}/{type_}"
        return base if entity_id is None else f"{base}/{entity_id}"


def ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def make_tenant(ops: httpx2.Client, region_name: str) -> Tenant:
    info = ok(ops.post(f"{API}/tenants", json={"name": f"Acme {region_name}", "region": region_name}), 201)
    base = f"{API}/tenants/{info['id']}"
    role = ok(ops.post(f"{base}/roles", json={"name": "Admins", "permissions": PERMISSIONS}), 201)
    username = f"admin.{region_name}"
    ok(
        ops.post(
            f"{base}/users",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "first_name": "Ad",
                "last_name": "Min",
                "role_id": role["id"],
                "password": PASSWORD,
            },
        ),
        201,
    )
    skill = ok(ops.post(f"{base}/skills", json={"name": "Sales"}), 201)
    return Tenant(info, skill, username)


def assert_region_unavailable(response: httpx2.Response, started: float) -> None:
    assert response.status_code == 503, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    assert error_code(response) == "region_unavailable", response.text
    assert response.json()["error"]["details"]["region"] == "na1"
    assert time.monotonic() - started < FAST_S, "a down region must be reported at once, not after a hang"


def requests_for_na1(ops: httpx2.Client, user: httpx2.Client, http: httpx2.Client, na1: Tenant) -> list:
    """Every kind of request that needs na1's database."""
    skill = na1.skill["id"]
    return [
        lambda: ops.get(na1.url("skills")),
        lambda: ops.get(na1.url("skills", skill)),
        lambda: ops.post(na1.url("skills"), json={"name": "Support"}),
        lambda: ops.patch(na1.url("skills", skill), json={"is_active": False}),
        lambda: ops.delete(na1.url("skills", skill)),
        lambda: ops.get(na1.url("business-unit")),
        lambda: ops.post(f"{API}/tenants", json={"name": "Acme na1 two", "region": "na1"}),
        lambda: http.post(f"{API}/auth/login", json={"username": na1.username, "password": PASSWORD}),
        lambda: user.get(na1.url("skills")),  # a session opened before the outage
    ]


def test_a_stopped_region_is_down_and_the_others_keep_working(layout, start_lifeboat):
    create_operator(layout.install)
    server: LifeboatServer = start_lifeboat(layout.install)
    ops = server.operator()
    na1, eu1 = make_tenant(ops, "na1"), make_tenant(ops, "eu1")
    na1_user = server.login(na1.username, PASSWORD)
    assert server.region_status() == {"na1": "up", "eu1": "up"}
    pid = server.process.pid

    layout.na1_server.stop()
    try:
        wait_until(lambda: server.region_status()["na1"] == "down", timeout=60, what="na1 reported down")
        status = server.status()
        assert status["directory"] == "up" and server.region_status() == {"na1": "down", "eu1": "up"}

        # eu1 keeps working: reads, writes, a new tenant and a fresh login.
        assert ok(ops.get(eu1.url("skills", eu1.skill["id"])))["name"] == "Sales"
        ok(ops.post(eu1.url("skills"), json={"name": "Support"}), 201)
        assert ok(ops.patch(eu1.url("skills", eu1.skill["id"]), json={"name": "Sales EU"}))["name"] == "Sales EU"
        ok(ops.post(f"{API}/tenants", json={"name": "Acme eu1 two", "region": "eu1"}), 201)
        eu1_user = server.login(eu1.username, PASSWORD)
        assert ok(eu1_user.get(eu1.url("skills")))["total"] == 2
        # The directory keeps working: the tenant list still names na1's tenant.
        tenants = ok(ops.get(f"{API}/tenants", params={"limit": 1000}))["items"]
        assert {t["name"] for t in tenants} >= {"Acme na1", "Acme eu1", "Acme eu1 two"}
        assert ok(ops.get(f"{API}/tenants/{na1.info['id']}"))["region"] == "na1"

        # Everything that needs na1 is refused with 503 region_unavailable, quickly.
        for send in requests_for_na1(ops, na1_user, server.http, na1):
            started = time.monotonic()
            assert_region_unavailable(send(), started)
        assert server.is_running
    finally:
        layout.na1_server.start()

    wait_until(lambda: server.region_status()["na1"] == "up", timeout=60, what="na1 reported up again")
    assert server.is_running and server.process.pid == pid  # the same lifeboat process, never restarted
    # na1 works again, with its data intact and nothing half-written during the outage.
    skills = ok(ops.get(na1.url("skills")))["items"]
    assert [(s["id"], s["name"], s["is_active"]) for s in skills] == [(na1.skill["id"], "Sales", True)]
    ok(ops.post(na1.url("skills"), json={"name": "Support"}), 201)
    assert ok(na1_user.get(na1.url("skills")))["total"] == 2  # the old session is valid again
    assert ok(server.login(na1.username, PASSWORD).get(na1.url("skills")))["total"] == 2
    assert "Acme na1 two" not in {t["name"] for t in ok(ops.get(f"{API}/tenants", params={"limit": 1000}))["items"]}
    assert server.region_status() == {"na1": "up", "eu1": "up"}
