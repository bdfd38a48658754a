"""Probes, request ids and log lines (SPEC §13) on SQLite and PostgreSQL: ``/healthz`` and
``/readyz`` (503 without the directory), ``X-Request-ID`` taken or made up and carried by
every log line of the request, JSON log lines that parse, and no password, passkey or token
in any log line or audit record after the work that handles all of them."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lifeboat.api.app import create_app
from lifeboat.bootstrap import Platform, build_platform
from lifeboat.logs import JsonFormatter
from lifeboat.store.tables import directory_audit, region_audit
from tests.bcp_fixture import SyncedPlan, build_plan
from tests.conftest import OPERATOR, Api
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log record of every logger, at DEBUG, as JSON lines in a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.fixture
def logged_client(shared_platform: Platform) -> Iterator[TestClient]:
    """The app with one log line per request, as ``lifeboat serve --access-log`` runs it."""
    with TestClient(create_app(shared_platform, access_log=True)) as client:
        yield client


def test_healthz_answers_without_a_login(shared_api):
    response = shared_api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_lists_the_regions_when_the_directory_answers(shared_api, shared_platform):
    response = shared_api.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["directory"]) == ("ready", "up")
    assert {r["name"]: r["status"] for r in body["regions"]} == dict.fromkeys(shared_platform.regions, "up")


def unreachable_directory(platform: Platform) -> str:
    if platform.directory.engine.dialect.name == "sqlite":
        return f"sqlite:///{platform.settings.data_dir / 'no-such-folder' / 'directory.db'}"
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/lifeboat_directory"


def test_readyz_is_503_without_the_directory_and_healthz_still_200(shared_platform):
    settings = shared_platform.settings.model_copy(
        update={"directory_url": unreachable_directory(shared_platform), "database_connect_timeout_s": 2}
    )
    cut_off = build_platform(settings)
    try:
        with TestClient(create_app(cut_off)) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert (ready.json()["status"], ready.json()["directory"]) == ("not_ready", "down")
            assert {r["status"] for r in ready.json()["regions"]} == {"up"}  # the regions still answer
            assert client.get("/healthz").status_code == 200
    finally:
        cut_off.close()


def test_a_sane_request_id_is_kept_and_carried_by_the_log_line(logged_client, json_log):
    token = logged_client.post(f"{API}/auth/login", json=dict(zip(("username", "password"), OPERATOR))).json()["token"]
    response = logged_client.get(
        f"{API}/tenants", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "carrier-42.a:b"}
    )
    assert response.status_code == 200 and response.headers["x-request-id"] == "carrier-42.a:b"
    [line] = [entry for entry in lines(json_log) if entry.get("request_id") == "carrier-42.a:b"]
    assert line["route"] == "/api/v1/tenants" and line["method"] == "GET" and line["status"] == 200
    assert line["actor"] == f"operator:{OPERATOR[0]}" and isinstance(line["duration_ms"], float)
    assert line["level"] == "info" and line["logger"] == "lifeboat.requests" and line["time"].endswith("+00:00")


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "<script>", "a b", "ünïcode"])
def test_a_missing_or_odd_request_id_is_replaced(logged_client, json_log, sent):
    headers = {} if sent is None else {"X-Request-ID": sent.encode()}  # bytes: UTF-8 on the wire
    response = logged_client.get(f"{API}/status", headers=headers)
    made_up = response.headers["x-request-id"]
    assert made_up != sent and len(made_up) == 32 and int(made_up, 16) >= 0
    [line] = [entry for entry in lines(json_log) if entry.get("request_id") == made_up]
    assert line["route"] == "/api/v1/status" and "actor" not in line


def test_log_lines_name_the_route_template_not_the_ids(logged_client, json_log):
    logged_client.get(f"{API}/tenants/123456/skills/42")  # 401: no token
    [line] = [entry for entry in lines(json_log) if entry.get("status") == 401]
    assert line["route"] == "/api/v1/tenants/{tenant_id}/skills/{entity_id}"
    assert "123456" not in json.dumps(line)


def test_each_answer_carries_its_own_request_id(logged_client):
    ids = {logged_client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.fixture
def plan(logged_client, shared_platform) -> SyncedPlan:
    return build_plan(Api(logged_client), shared_platform)


def audit_text(platform: Platform) -> str:
    """Every audit record of the directory and of every region, as one text."""
    rows: list[Any] = []
    with platform.directory.engine.connect() as conn:
        rows += conn.execute(select(directory_audit)).all()
    for region in platform.regions.values():
        with region.db.engine.connect() as conn:
            rows += conn.execute(select(region_audit)).all()
    return "\n".join(json.dumps([*row], default=str) for row in rows)


def test_no_password_passkey_or_token_reaches_a_log_line_or_an_audit_record(plan, json_log):
    """Everything that handles a secret, done once with the right one and once with a wrong
    one, with every logger at DEBUG; then neither the log nor any audit table holds one."""
    from tests.examples import PASSWORD

    wrong_password, wrong_passkey = "Wrong-password-9f8e7d", "WRONG-PASSKEY-4c3b2a1d"
    user = plan.usernames["single"]
    assert plan.api.post(f"{API}/auth/login", json={"username": user, "password": wrong_password}).status_code == 401
    login = plan.login("single").json()
    session = login["token"]
    assert plan.api.get(f"{API}/tenants/{plan.primary_id}", headers={"Authorization": f"Bearer {session}"}).is_success
    assert plan.switch("bcp", passkey=wrong_passkey).status_code == 403
    assert plan.switch("bcp").status_code == 200
    assert plan.switch("primary").status_code == 200
    voice = plan.ops.call("POST", f"{API}/voice/tokens", json={"name": "edge-a"}, expect=201)["token"]
    number = next(iter(plan.numbers.values()))
    route = plan.api.get(f"{API}/voice/route", params={"number": number}, headers={"Authorization": f"Bearer {voice}"})
    assert route.status_code == 200, route.text
    regenerated = plan.ops.call("POST", plan.url("/passkey"))["passkey"]
    again = plan.login("single").json()["token"]  # the switch ended the first session
    assert plan.api.post(f"{API}/auth/logout", headers={"Authorization": f"Bearer {again}"}).status_code == 204

    secrets = {
        "password": PASSWORD,
        "wrong password": wrong_password,
        "passkey": plan.passkey,
        "wrong passkey": wrong_passkey,
        "regenerated passkey": regenerated,
        "session token": session,
        "second session token": again,
        "voice token": voice,
        "operator password": OPERATOR[1],
    }
    logged, audited = json_log.getvalue(), audit_text(plan.platform)
    requests = [entry for entry in lines(json_log) if entry["logger"] == "lifeboat.requests"]
    assert len(requests) >= 11 and "switch" in audited  # the capture saw the work
    leaked = {
        name: where
        for name, secret in secrets.items()
        for where, text in (("log", logged), ("audit", audited))
        if secret in text
    }
    assert leaked == {}
