"""A drill's whole life across real ``lifeboat serve`` processes (SPEC §14), on SQLite and
PostgreSQL: started over HTTP on one replica of two, it routes its test number to BCP and
lets its pilot (and only its pilot) log in there, while an agent's session carries on on the
primary. Both replicas are then stopped and two new ones started before its time limit: the
drill still ends on time (a job of the scheduler reading the directory, not a timer in the
process that started it), exactly once (one ``bcp.drill_end`` audit row, one ``drill_ended``
alert) although two schedulers look for it every second.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx2

from tests.e2e.lifeboat_process import API, LifeboatServer, describe, run_lifeboat, wait_until

TEST_NUMBER = "+12025550100"  # the demo's two voice points of contact
OTHER_NUMBER = "+12025550101"
PASSWORD = "lifeboat-demo"
AGENT, PILOT = "agent1", "agent2"  # agent1 has BCP access `single`; neither is a pilot but agent2
MINUTES = 2  # time to restart two servers on a loaded machine (importing lifeboat alone can take a minute)
ON_TIME_S = 5.0  # the scheduler looks every second; the rest is a loaded test machine


def test_a_drill_ends_on_time_and_once_across_restarted_replicas(installation, start_lifeboat):
    flags = installation.flags()
    demo = run_lifeboat("demo", "--users", "5", *flags)
    assert demo.returncode == 0, describe(demo)
    primary = int(re.search(r"Primary tenant: .* id (\d+)", demo.stdout).group(1))  # type: ignore[union-attr]
    bcp = int(re.search(r"BCP tenant: .* id (\d+)", demo.stdout).group(1))  # type: ignore[union-attr]
    passkey = re.search(r"BCP passkey:\s+(\S+)", demo.stdout).group(1)  # type: ignore[union-attr]
    assert run_lifeboat("sync", "run", *flags).returncode == 0
    first, second = _two_replicas(start_lifeboat, installation)
    operator = first.login("operator", PASSWORD)
    subscribed = operator.post(
        f"{API}/tenants/{primary}/alert-subscriptions",
        json={"kind": "email", "target": "drills@example.com", "events": ["drill_ended"]},
    )
    assert subscribed.status_code == 201, subscribed.text
    session = {"Authorization": f"Bearer {_token(first, AGENT)}"}  # an agent's session from before the drill

    started = operator.post(
        f"{API}/tenants/{primary}/bcp/drills",
        json={"numbers": [TEST_NUMBER], "users": [PILOT], "passkey": passkey, "minutes": MINUTES},
    )
    assert started.status_code == 201, started.text
    drill = started.json()
    ends_at = _utc(drill["ends_at"])

    other = second.login("operator", PASSWORD)  # the other replica sees the drill at once
    assert _route(other, TEST_NUMBER)["tenant_id"] == bcp
    assert _route(other, OTHER_NUMBER)["tenant_id"] == primary
    assert _tenant_of_login(second, PILOT) == bcp
    assert _tenant_of_login(second, AGENT) == primary
    assert second.client(session).get(f"{API}/tenants/{primary}").status_code == 200  # its session lives on

    for server in (first, second):  # every scheduler gone, well before the time limit
        server.stop()
    assert _seconds_until(ends_at) > 45, "the checks above took too long for this test to mean anything"
    third, fourth = _two_replicas(start_lifeboat, installation)
    watcher = third.login("operator", PASSWORD)
    left = _seconds_until(ends_at)
    assert left > 2, f"the new replicas were ready {left:.1f} s before the time limit: too late to tell (load?)"
    assert _drill(watcher, primary, drill["id"])["status"] == "running"  # the stopped processes ended nothing

    ended = wait_until(
        lambda: (d := _drill(watcher, primary, drill["id"]))["status"] == "ended" and d,
        timeout=_seconds_until(ends_at) + 30,
        interval=0.2,
        what="the drill's end at its time limit",
    )

    late = (_utc(ended["ended_at"]) - ends_at).total_seconds()
    assert 0 <= late < ON_TIME_S, ended
    assert ended["ended_by"] == "time_limit"
    assert _route(fourth.login("operator", PASSWORD), TEST_NUMBER)["tenant_id"] == primary
    assert (ended["calls_routed"], ended["pilot_logins"]) == (1, 1)
    assert ended["first_call_s"] is not None and ended["first_login_s"] is not None
    time.sleep(2)  # both schedulers have looked again since: still one end
    audit = watcher.get(f"{API}/tenants/{primary}/audit", params={"action": "bcp.drill_end", "limit": 100})
    assert audit.status_code == 200, audit.text
    assert [row["action"] for row in audit.json()["items"]] == ["bcp.drill_end"]
    [subscription] = watcher.get(f"{API}/tenants/{primary}/alert-subscriptions").json()["items"]
    assert [d["event"] for d in subscription["recent"]] == ["drill_ended"]
    assert third.client(session).get(f"{API}/tenants/{primary}").status_code == 200  # and across the restart


def _two_replicas(start_lifeboat: Callable[..., LifeboatServer], installation: Any) -> list[LifeboatServer]:
    """Two ``lifeboat serve`` over one installation, started side by side (a loaded machine
    takes many seconds to start one)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda _: start_lifeboat(installation), range(2)))


def _route(client: httpx2.Client, number: str) -> dict[str, Any]:
    response = client.get(f"{API}/voice/route", params={"number": number})
    assert response.status_code == 200, response.text
    return response.json()


def _token(server: LifeboatServer, username: str) -> str:
    response = server.http.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200 and "token" in response.json(), response.text
    return str(response.json()["token"])


def _tenant_of_login(server: LifeboatServer, username: str) -> int:
    response = server.http.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200 and response.json().get("tenant"), response.text
    return int(response.json()["tenant"]["id"])


def _drill(client: httpx2.Client, tenant_id: int, drill_id: int) -> dict[str, Any]:
    response = client.get(f"{API}/tenants/{tenant_id}/bcp/drills/{drill_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _utc(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _seconds_until(at: datetime) -> float:
    return at.timestamp() - time.time()
