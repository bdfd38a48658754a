"""A region whose database cannot be reached is reported down and takes nothing else with it.

Both tenants are created while every region is up; then a second server is built on the
same databases with eu1's out of reach: on SQLite the file sits in
a folder that does not exist, on PostgreSQL nothing listens on the port. (Stopping the
test server would take every region down at once: they all live on it.)
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform, migrate_platform
from lifeboat.config import Settings
from tests.conftest import Api
from tests.examples import PASSWORD, TenantApi, error_of, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401


def unreachable_url(backend: str, settings: Settings) -> str:
    if backend == "sqlite":
        return f"sqlite:///{settings.data_dir / 'no-such-folder' / 'region-eu1.db'}"
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/lifeboat_eu1"


def with_region_down(settings: Settings, backend: str, name: str) -> Settings:
    regions = [
        r.model_copy(update={"database_url": unreachable_url(backend, settings)}) if r.name == name else r
        for r in settings.regions
    ]
    return settings.model_copy(update={"regions": regions, "database_connect_timeout_s": 2})


@dataclass
class World:
    api: Api
    na1: TenantApi  # acting as the operator
    eu1: TenantApi
    na1_user: dict
    eu1_user: dict
    eu1_token: str


@pytest.fixture(scope="module")
def world(shared_platform, shared_api) -> Iterator[World]:
    """Tenants in na1 and eu1 with a user each, then a second server that cannot reach eu1."""
    na1 = new_tenant(shared_api, tenant_name("North"), "na1")
    eu1 = new_tenant(shared_api, tenant_name("Europe"), "eu1")
    na1_user, eu1_user = na1.create("users"), eu1.create("users")
    eu1_token = shared_api.login(eu1_user["username"], PASSWORD)["Authorization"]

    after = build_platform(with_region_down(shared_platform.settings, backend_of(shared_platform), "eu1"))
    with TestClient(create_app(after)) as client:
        api = Api(client)
        operator = api.operator()
        yield World(
            api,
            TenantApi(api, operator, na1.tenant),
            TenantApi(api, operator, eu1.tenant),
            na1_user,
            eu1_user,
            eu1_token,
        )
    after.close()


def backend_of(platform) -> str:
    return "postgres" if platform.directory.dialect == "postgresql" else "sqlite"


def test_status_says_the_region_is_down_and_the_others_are_up(world):
    started = time.monotonic()

    response = world.api.get("/api/v1/status")

    assert response.status_code == 200
    assert {r["name"]: r["status"] for r in response.json()["regions"]} == {"na1": "up", "eu1": "down"}
    assert response.json()["directory"] == "up"
    assert time.monotonic() - started < 10


def test_a_tenant_of_the_down_region_answers_503_region_unavailable_saying_which_region(world):
    for response in (
        world.eu1.get("skills"),
        world.eu1.post("skills", {"name": "Billing"}),
        world.eu1.get("business-unit"),
    ):
        assert response.status_code == 503
        error = error_of(response)
        assert error["code"] == "region_unavailable"
        assert "eu1" in error["message"] and "cannot be reached" in error["message"]
        assert error["details"]["region"] == "eu1"


def test_the_answer_does_not_leak_the_database_url(world):
    response = world.eu1.get("skills")

    assert "no-such-folder" not in response.text
    assert "postgresql" not in response.text


def test_a_tenant_of_the_other_region_keeps_working(world):
    user = world.na1.create("users")
    headers = world.api.login(user["username"], PASSWORD)
    acting = TenantApi(world.api, headers, world.na1.tenant)

    created = world.na1.create("skills")

    assert world.na1.get("skills", created["id"]).json() == created
    assert created in world.na1.get("skills").json()["items"]
    assert acting.api.get(f"/api/v1/tenants/{world.na1.id}", headers=headers).status_code == 200
    assert world.api.get(f"/api/v1/tenants/{world.na1.id}/audit", headers=world.na1.headers).status_code == 200


def test_the_directory_still_lists_the_tenant_of_the_down_region(world):
    response = world.api.get("/api/v1/tenants", headers=world.na1.headers)

    regions = {t["id"]: t["region"] for t in response.json()["items"]}
    assert (regions[world.na1.id], regions[world.eu1.id]) == ("na1", "eu1")


def test_a_user_of_the_down_region_cannot_log_in_and_is_told_why(world):
    response = world.api.post("/api/v1/auth/login", json={"username": world.eu1_user["username"], "password": PASSWORD})

    assert response.status_code == 503
    assert error_of(response)["code"] == "region_unavailable"


def test_a_session_of_the_down_region_gets_503_not_401(world):
    response = world.api.get(f"/api/v1/tenants/{world.eu1.id}/skills", headers={"Authorization": world.eu1_token})

    assert response.status_code == 503
    assert error_of(response)["code"] == "region_unavailable"


def test_users_of_the_up_region_log_in_while_the_other_is_down(world):
    response = world.api.post("/api/v1/auth/login", json={"username": world.na1_user["username"], "password": PASSWORD})

    assert response.status_code == 200


def test_no_tenant_can_be_created_in_the_down_region(world):
    name = tenant_name("Late")

    response = world.api.post("/api/v1/tenants", json={"name": name, "region": "eu1"}, headers=world.na1.headers)

    assert response.status_code == 503
    assert error_of(response)["code"] == "region_unavailable"
    names = [t["name"] for t in world.api.get("/api/v1/tenants?limit=1000", headers=world.na1.headers).json()["items"]]
    assert name not in names


def test_a_username_held_in_the_down_region_stays_taken(world):
    response = world.na1.post("users", world.na1.payload("users", username=world.eu1_user["username"]))

    assert response.status_code == 409
    assert error_of(response)["code"] == "username_taken"


def test_the_platform_starts_and_migrates_what_it_can_while_a_region_is_down(shared_platform):
    platform = build_platform(with_region_down(shared_platform.settings, backend_of(shared_platform), "eu1"))
    try:
        assert migrate_platform(platform, skip_down=True) == {"directory": "ok", "na1": "ok", "eu1": "down"}
        with TestClient(create_app(platform)) as client:
            api = Api(client)
            assert new_tenant(api, tenant_name("North"), "na1").create("skills")["id"] > 0
    finally:
        platform.close()
