"""Failed logins are throttled per username and per client address (``services.tenancy.throttle``),
on SQLite and PostgreSQL, with small limits and a one-second lockout so that waiting one out
is quick: 429 ``too_many_attempts`` with ``Retry-After``, other users and other addresses
unaffected, a lock seen by another replica, quiet keys pruned."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform
from lifeboat.services.tenancy import throttle
from lifeboat.store.tables import directory_audit, login_failures, now
from tests.conftest import OPERATOR, sqlite_settings
from tests.examples import PASSWORD, error_of, new_tenant

LOGIN = "/api/v1/auth/login"
LIMITS = {
    "login_max_failures_per_username": 3,
    "login_max_failures_per_address": 6,
    "login_lockout_s": 1.0,
    "login_window_s": 60.0,
}
HOME, ELSEWHERE = ("198.51.100.7", 40000), ("203.0.113.9", 40000)


@pytest.fixture
def settings(backend, request, tmp_path):
    if backend == "postgres":
        return request.getfixturevalue("postgres_settings")(**LIMITS)
    return sqlite_settings(tmp_path / "data", **LIMITS)


@pytest.fixture
def clients(platform):
    """Two clients of the same server, from two addresses."""
    app = create_app(platform)
    with TestClient(app, client=HOME) as home, TestClient(app, client=ELSEWHERE) as elsewhere:
        yield home, elsewhere


@pytest.fixture
def users(api) -> tuple[str, str]:
    tenant = new_tenant(api, "Throttle Co")
    return tenant.create("users")["username"], tenant.create("users")["username"]


def login(client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, json={"username": username, "password": password})


def fail(client, username: str, times: int) -> None:
    for _ in range(times):
        assert login(client, username, "wrong password").status_code == 401


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.text
    assert error_of(response)["code"] == "too_many_attempts"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 1 + LIMITS["login_lockout_s"]
    return retry_after


def test_repeated_failures_lock_a_username_while_another_user_logs_in_normally(clients, users):
    home, _ = clients
    ada, grace = users

    fail(home, ada, 3)

    assert_throttled(login(home, ada))  # even with the right password
    assert login(home, grace).status_code == 200


def test_after_the_lockout_the_right_password_works_again(clients, users):
    home, _ = clients
    ada, _ = users
    fail(home, ada, 3)
    assert_throttled(login(home, ada))

    time.sleep(LIMITS["login_lockout_s"] + 0.1)

    assert login(home, ada).status_code == 200


def test_one_more_failure_after_a_lockout_locks_again_for_longer(clients, users):
    home, _ = clients
    ada, _ = users
    fail(home, ada, 3)
    time.sleep(LIMITS["login_lockout_s"] + 0.1)

    fail(home, ada, 1)

    response = login(home, ada)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 2


def test_a_successful_login_forgets_the_usernames_failures(clients, users):
    home, _ = clients
    ada, _ = users

    fail(home, ada, 2)
    assert login(home, ada).status_code == 200
    fail(home, ada, 2)

    assert login(home, ada).status_code == 200


def test_unknown_usernames_lock_like_known_ones(clients):
    home, _ = clients

    fail(home, "nobody-here", 3)

    assert_throttled(login(home, "nobody-here"))


def test_many_failures_from_one_address_lock_that_address_only(clients, users):
    home, elsewhere = clients
    ada, grace = users
    for n in range(6):  # six names, none reaching its own limit
        fail(home, f"guess{n}", 1)

    response = login(home, grace)

    assert_throttled(response)
    assert error_of(response)["details"]["scopes"] == ["address"]
    assert login(elsewhere, grace).status_code == 200
    assert login(elsewhere, ada).status_code == 200


def test_a_lock_is_seen_by_another_replica(platform, clients, users):
    home, _ = clients
    ada, _ = users
    replica = build_platform(platform.settings)
    try:
        with TestClient(create_app(replica), client=HOME) as other:
            fail(home, ada, 3)
            assert_throttled(login(other, ada))
    finally:
        replica.close()


def test_failures_stay_in_the_audit_log_and_a_lock_is_recorded_once(platform, clients, users):
    home, _ = clients
    ada, _ = users

    fail(home, ada, 3)
    assert_throttled(login(home, ada))
    assert_throttled(login(home, ada))

    with platform.directory.read() as conn:
        rows = conn.execute(
            select(directory_audit.c.action, directory_audit.c.details).where(directory_audit.c.actor == f"login:{ada}")
        ).all()
    assert [a for a, _ in rows].count("login.failed") == 3
    locks = [d for a, d in rows if a == "login.locked"]
    assert [d["scope"] for d in locks] == ["username"]


def test_keys_quiet_for_a_whole_window_are_pruned(platform, clients, users, monkeypatch):
    home, _ = clients
    ada, _ = users
    fail(home, ada, 2)
    later = now() + timedelta(seconds=LIMITS["login_window_s"] + 1)
    monkeypatch.setattr(throttle, "now", lambda: later)

    fail(home, "someone-else", 1)

    with platform.directory.read() as conn:
        keys = {tuple(r) for r in conn.execute(select(login_failures.c.scope, login_failures.c.key))}
    assert keys == {("username", "someone-else"), ("address", HOME[0])}


def test_operators_are_throttled_too(clients):
    home, _ = clients
    fail(home, OPERATOR[0], 3)

    assert_throttled(login(home, *OPERATOR))
