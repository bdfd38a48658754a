"""``lifeboat demo`` as a user runs it: the real program, twice, then a login over HTTP with
what it printed (SQLite and PostgreSQL)."""

from __future__ import annotations

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


def test_printed_credentials_log_in_to_the_server(installation, start_lifeboat):
    printed = demo(installation)
    password = re.search(r"password of every demo account: (\S+)", printed).group(1)
    tenant_id = int(re.search(r"Primary tenant: .* id (\d+), region na1", printed).group(1))
    assert "/docs" in printed and "curl" in printed
    server = start_lifeboat(installation)
    admin = server.login("admin", password)
    skills = admin.get(f"{API}/tenants/{tenant_id}/skills", params={"limit": 5})
    assert skills.status_code == 200 and skills.json()["total"] >= 1, skills.text
    server.login("agent1", password)  # each login asserts its 200
    server.login("operator", password)
