"""``lifeboat demo`` as a user runs it: the real program, twice, then a login over HTTP with
what it printed (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re

from tests.e2e.lifeboat_process import API, describe, run_lifeboat

USERS = "20"


def demo(installation):
    result = run_lifeboat("demo", *installation.flags(), "--users", USERS)
    assert result.returncode == 0, describe(result)
    return result.stdout


def test_demo_twice_loads_once_then_says_it_was_already_loaded(installation):
    first = demo(installation)
    assert "Demo loaded" in first
    assert re.search(r"│ users\s+│ 20\s+│ 0\s+│", first), first
    second = demo(installation)
    assert "already loaded" in second and "nothing was added" in second
    assert re.search(r"│ users\s+│ 0\s+│ 20\s+│", second), second
    assert re.search(r"│ scripts\s+│ 0\s+│ [1-9]\d*\s+│", second), second


def test_the_printed_login_command_gets_a_token_that_reads_the_tenant(installation, start_lifeboat):
    printed = demo(installation)
    body = json.loads(re.search(r"auth/login .* -d '(\{.*\})'", printed).group(1))
    tenant_id = int(re.search(r"Primary tenant: .* id (\d+), region na1", printed).group(1))
    assert "/docs" in printed
    server = start_lifeboat(installation)
    answer = server.http.post(f"{API}/auth/login", json=body)
    assert answer.status_code == 200 and answer.json()["tenant"]["id"] == tenant_id, answer.text
    admin = server.client({"Authorization": f"Bearer {answer.json()['token']}"})
    skills = admin.get(f"{API}/tenants/{tenant_id}/skills", params={"limit": 5})
    assert skills.status_code == 200 and skills.json()["total"] >= 1, skills.text
    server.login("agent1", body["password"])  # each login asserts its 200
    server.login("operator", body["password"])


def test_the_hints_name_the_address_the_server_will_answer_on(installation):
    result = run_lifeboat("demo", *installation.flags(), "--users", USERS, "--url", "http://127.0.0.1:8123/")
    assert result.returncode == 0, describe(result)
    assert "http://127.0.0.1:8123/docs" in result.stdout
    assert "curl -s -X POST http://127.0.0.1:8123/api/v1/auth/login" in result.stdout
    assert ":8000" not in result.stdout
