"""The voice edge end to end (SPEC §12): real Kamailio in front of a real ``lifeboat serve``
over the demo, called with sipp over loopback, on UDP and TCP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.lifeboat_process import API, wait_until
from tests.edge.conftest import Demo, Edge, start_edge
from tests.edge.sip import call, explain

VOICE = "+12025550100"  # the demo's first voice point of contact
SMS = "+12025550104"  # an SMS point of contact: no route while the BCP tenant is active
UNKNOWN = "+12025550199"
TRANSPORTS = ["udp", "tcp"]


def redirected_to(region: str, number: str = VOICE) -> str:
    user = number.replace("+", r"\+")
    return rf"<sip:{user}@{region}\.voice\.lifeboat\.test>"


def expect(edge: Edge, folder: Path, **kwargs) -> None:
    result = call(folder, edge.port, **kwargs)
    assert result.returncode == 0, explain(result, folder) + "\n--- edge\n" + edge.log_tail()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_known_number_is_redirected_to_the_active_regions_cluster(edge, tmp_path, transport):
    expect(
        edge, tmp_path, number=VOICE, expect=302, transport=transport, header="Contact", pattern=redirected_to("na1")
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_number_without_plus_is_redirected_as_dialled(edge, tmp_path, transport):
    number = VOICE.lstrip("+")
    pattern = rf"<sip:{number}@na1\.voice\.lifeboat\.test>"
    expect(edge, tmp_path, number=number, expect=302, transport=transport, header="Contact", pattern=pattern)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_number_and_not_a_number_get_404(edge, tmp_path, transport):
    expect(edge, tmp_path, number=UNKNOWN, expect=404, transport=transport)
    expect(edge, tmp_path, number="alice", expect=404, transport=transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_options_is_answered_200_and_other_methods_405(edge, tmp_path, transport):
    expect(edge, tmp_path, number=VOICE, expect=200, transport=transport, method="OPTIONS")
    expect(edge, tmp_path, number=VOICE, expect=405, transport=transport, method="MESSAGE")
    expect(edge, tmp_path, number=VOICE, expect=405, transport=transport, method="REGISTER")


def test_a_switch_reaches_the_next_call_within_a_second_and_revert_too(demo: Demo, edge, tmp_path):
    for transport in TRANSPORTS:  # both cached now
        expect(
            edge,
            tmp_path,
            number=VOICE,
            expect=302,
            transport=transport,
            header="Contact",
            pattern=redirected_to("na1"),
        )
    demo.switch("bcp")
    switched = time.monotonic()
    try:
        for transport in TRANSPORTS:
            expect(
                edge,
                tmp_path,
                number=VOICE,
                expect=302,
                transport=transport,
                header="Contact",
                pattern=redirected_to("eu1"),
            )
        assert time.monotonic() - switched < 1.0
        for transport in TRANSPORTS:  # digital channels have no route while BCP is active
            expect(edge, tmp_path, number=SMS, expect=480, transport=transport, header="Retry-After", pattern=r"[0-9]+")
    finally:
        demo.switch("primary")
    reverted = time.monotonic()
    expect(edge, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("na1"))
    assert time.monotonic() - reverted < 1.0
    expect(edge, tmp_path, number=SMS, expect=302, header="Contact", pattern=redirected_to("na1", SMS))


def test_edges_are_listed_with_their_answers_by_code(demo: Demo, edge, tmp_path):
    expect(edge, tmp_path, number=UNKNOWN, expect=404)
    seen = wait_until(
        lambda: (e := demo.edges().get("edge-a")) and e["answers"]["404"] >= 1 and e,
        timeout=15,
        what="the edge's next report",
    )
    assert seen["rpc_url"] == f"http://127.0.0.1:{edge.rpc_port}/RPC"
    assert seen["answers"]["302"] >= 1
    response = demo.server.client().get(f"{API}/voice/edges")
    assert response.status_code == 401


def test_two_edges_both_follow_a_switch(demo: Demo, edge, tmp_path):
    second = start_edge(demo, "edge-b", tmp_path / "edge-b")
    try:
        for one in (edge, second):
            expect(one, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("na1"))
        demo.switch("bcp")
        try:
            for one in (edge, second):
                expect(one, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("eu1"))
        finally:
            demo.switch("primary")
        for one in (edge, second):
            expect(one, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("na1"))
    finally:
        second.stop()
