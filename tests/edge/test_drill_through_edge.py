"""A drill through a real Kamailio edge (SPEC §12, §14): started and ended over the HTTP API,
it reaches the next call to a test number within a second, leaves every other number on the
primary, and its record counts the calls that came through the edge, each one (the edge
never caches a drill's answer, so every call to a test number reaches lifeboat)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lifeboat.edge.rpc import rpc
from lifeboat.errors import Unavailable
from tests.e2e.lifeboat_process import API
from tests.edge.conftest import Demo, Edge
from tests.edge.sip import call, explain
from tests.edge.test_edge import VOICE, redirected_to

OTHER = "+12025550101"  # the demo's second voice point of contact: not drilled
CALLS = 3


def expect_route(edge: Edge, folder: Path, number: str, region: str) -> None:
    result = call(folder, edge.port, number=number, expect=302, header="Contact", pattern=redirected_to(region, number))
    assert result.returncode == 0, explain(result, folder) + "\n--- edge\n" + edge.log_tail()


def stored(edge: Edge, table: str, number: str) -> Any:
    """What the edge keeps for a number in one of its tables (None: nothing)."""
    try:
        return rpc(f"http://127.0.0.1:{edge.rpc_port}/RPC", "htable.get", [table, number.lstrip("+")])
    except Unavailable:  # htable.get answers an error for a key it does not hold
        return None


def drills_url(demo: Demo, tail: str = "") -> str:
    return f"{API}/tenants/{demo.primary}/bcp/drills{tail}"


def start_drill(demo: Demo) -> dict[str, Any]:
    assert demo.operator is not None
    body = {"numbers": [VOICE], "users": [], "passkey": demo.passkey, "minutes": 30}
    response = demo.operator.post(drills_url(demo), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def end_drill(demo: Demo, drill_id: int) -> dict[str, Any]:
    assert demo.operator is not None
    response = demo.operator.post(drills_url(demo, f"/{drill_id}/end"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_drill_reaches_the_edge_within_a_second_and_counts_its_calls(demo: Demo, edge: Edge, tmp_path):
    for number in (VOICE, OTHER, VOICE):  # cached at the edge now, as numbers in use are
        expect_route(edge, tmp_path, number, "na1")

    drill = start_drill(demo)
    started = time.monotonic()
    try:
        expect_route(edge, tmp_path, VOICE, "eu1")
        assert time.monotonic() - started < 1.0
        expect_route(edge, tmp_path, OTHER, "na1")
        for _ in range(CALLS - 1):  # answered by lifeboat each time, not from the edge's cache
            expect_route(edge, tmp_path, VOICE, "eu1")
        assert stored(edge, "routes", VOICE) is None  # the drill's answer is cached nowhere
        assert "na1.voice" in str(stored(edge, "known", VOICE))  # its last known route is the usual one
    finally:
        ended = end_drill(demo, drill["id"])
    stopped = time.monotonic()
    expect_route(edge, tmp_path, VOICE, "na1")
    assert time.monotonic() - stopped < 1.0
    expect_route(edge, tmp_path, OTHER, "na1")

    assert ended["calls_routed"] == CALLS  # each call through the edge; the other number's is not one
    assert ended["first_call_s"] is not None and 0 <= ended["first_call_s"] < 1.0
    assert ended["status"] == "ended" and ended["pilot_logins"] == 0
