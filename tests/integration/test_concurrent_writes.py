"""Uniqueness holds when writes race: the same natural key or username sent by several
clients at once is created exactly once, and every other client gets a 409, never a 500."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update

from lifeboat.services.tenancy import usernames
from lifeboat.store.directory import LoginIndexRepo
from lifeboat.store.tables import login_index, now
from tests.examples import PASSWORD, TenantApi, new_tenant, unique
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

CLIENTS = 6


def race(calls) -> list:
    """Run the calls at the same moment, one thread each; their responses in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


def test_the_same_skill_sent_at_once_is_created_once(acme):
    responses = race([lambda: acme.post("skills", {"name": "Billing"})] * CLIENTS)

    assert Counter(r.status_code for r in responses) == {201: 1, 409: CLIENTS - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"duplicate_natural_key"}
    assert acme.get("skills").json()["total"] == 1


def test_the_same_username_sent_to_several_tenants_at_once_is_created_once(shared_api):
    tenants = [new_tenant(shared_api, tenant_name("Racer")) for _ in range(CLIENTS)]
    payloads = [t.payload("users", username=unique("racer")) for t in tenants]
    username = payloads[0]["username"]
    for payload in payloads:
        payload["username"] = username

    responses = race([lambda t=t, p=p: t.post("users", p) for t, p in zip(tenants, payloads)])

    assert Counter(r.status_code for r in responses) == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"username_taken"}
    owners = [t for t in tenants if t.get("users").json()["total"] == 1]
    assert len(owners) == 1
    login = shared_api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["tenant"]["id"] == owners[0].id


def claim_left_by_a_crash(platform, username: str, tenant_id: int, age: timedelta) -> None:
    """A claim whose write died before its user was stored."""
    with platform.directory.write() as conn:
        LoginIndexRepo(conn).reserve(username, tenant_id, usernames.PENDING)
        conn.execute(update(login_index).where(login_index.c.username == username).values(claimed_at=now() - age))


def test_an_old_claim_without_its_user_is_taken_over(shared_platform, shared_api):
    crashed, other = new_tenant(shared_api, tenant_name("Crashed")), new_tenant(shared_api, tenant_name("Other"))
    username = unique("orphan")
    claim_left_by_a_crash(shared_platform, username, crashed.id, usernames.CLAIM_GRACE + timedelta(minutes=1))

    response = other.post("users", other.payload("users", username=username))

    assert response.status_code == 201, response.text
    assert shared_api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200


def test_a_young_claim_without_its_user_is_a_write_in_flight_and_keeps_the_name(shared_platform, shared_api):
    writing, other = new_tenant(shared_api, tenant_name("Writing")), new_tenant(shared_api, tenant_name("Other"))
    username = unique("inflight")
    claim_left_by_a_crash(shared_platform, username, writing.id, timedelta(seconds=1))

    response = other.post("users", other.payload("users", username=username))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


def test_a_young_claim_holds_the_name_against_its_own_tenant_too(shared_platform, shared_api):
    """A second write in the same tenant could otherwise release the first one's claim when it fails."""
    writing = new_tenant(shared_api, tenant_name("Writing"))
    username = unique("retry")
    claim_left_by_a_crash(shared_platform, username, writing.id, timedelta(seconds=1))

    response = writing.post("users", writing.payload("users", username=username))

    assert response.status_code == 409
    assert writing.get("users").json()["total"] == 0


def test_the_same_username_sent_to_one_tenant_at_once_is_created_once_and_logs_in(shared_api, acme):
    payload = acme.payload("users", username=unique("twin"))

    responses = race([lambda: acme.post("users", payload)] * CLIENTS)

    assert Counter(r.status_code for r in responses) == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses]
    assert acme.get("users").json()["total"] == 1
    login = shared_api.post("/api/v1/auth/login", json={"username": payload["username"], "password": PASSWORD})
    assert login.status_code == 200


def test_patches_of_different_fields_sent_at_once_all_apply(acme):
    skill = acme.create("skills", media_type="voice")
    changes = [
        {"name": "Renamed"},
        {"media_type": "chat"},
        {"hours_of_operation_id": None},
        {"disposition_ids": []},
        {"is_active": False},
    ]

    responses = race([lambda c=c: acme.patch("skills", skill["id"], c) for c in changes])

    assert [r.status_code for r in responses] == [200] * len(changes)
    final = acme.get("skills", skill["id"]).json()
    assert {k: final[k] for c in changes for k in c} == {k: v for c in changes for k, v in c.items()}


def test_a_patch_racing_a_delete_either_applies_first_or_finds_nothing(acme):
    skill = acme.create("skills")

    patched, deleted = race(
        [lambda: acme.patch("skills", skill["id"], {"name": "Renamed"}), lambda: acme.delete("skills", skill["id"])]
    )

    assert deleted.status_code == 204
    assert patched.status_code in (200, 404), patched.text
    assert acme.get("skills", skill["id"]).status_code == 404
