"""Request bodies over the cap are refused before they are read (413 request_too_large), and
ids outside the id space are not found rather than a database error."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.api.limits import body_limit
from lifeboat.bootstrap import build_platform, migrate_platform
from tests.conftest import sqlite_settings


def client(tmp_path) -> TestClient:
    platform = build_platform(sqlite_settings(tmp_path, max_file_bytes=64 * 1024))
    migrate_platform(platform)
    return TestClient(create_app(platform))


def test_a_body_declared_over_the_cap_is_refused_with_413(tmp_path):
    api = client(tmp_path)
    too_big = b"x" * (body_limit(64 * 1024) + 1)
    response = api.post("/api/v1/auth/login", content=too_big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_a_streamed_body_that_grows_over_the_cap_is_refused_with_413(tmp_path):
    api = client(tmp_path)
    chunks = (b"x" * 100_000 for _ in range(body_limit(64 * 1024) // 100_000 + 2))
    response = api.post("/api/v1/auth/login", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["details"]["limit"] == body_limit(64 * 1024)


def test_a_body_under_the_cap_goes_through(tmp_path):
    api = client(tmp_path)
    response = api.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert response.status_code == 401


def test_run_and_subscription_ids_beyond_the_id_space_are_simply_not_found(platform):
    from lifeboat.store.alerts import SubscriptionRepo
    from lifeboat.store.plans import RunRepo

    with platform.directory.read() as conn:
        assert RunRepo(conn).get(2**63) is None and RunRepo(conn).get(0) is None
        assert SubscriptionRepo(conn).get(2**64) is None
