"""Static stability (SPEC §12): with the routing API gone, every number the edge has seen
keeps its last known answer; only a number never seen gets 503. The API back, answers are
fresh again."""

from __future__ import annotations

import pytest

from lifeboat.edge.rpc import rpc
from tests.edge.conftest import Demo, Edge
from tests.edge.sip import call, explain
from tests.edge.test_edge import TRANSPORTS, UNKNOWN, VOICE, redirected_to

NEVER_SEEN = "+12025550188"


def expect(edge: Edge, folder, **kwargs) -> None:
    result = call(folder, edge.port, **kwargs)
    assert result.returncode == 0, explain(result, folder) + "\n--- edge\n" + edge.log_tail()


@pytest.fixture
def api_stopped(demo: Demo, edge: Edge):
    demo.stop()
    # Forget the 5 s cache, as its expiry would: what answers now is the last-known table.
    rpc(f"http://127.0.0.1:{edge.rpc_port}/RPC", "htable.flush", ["routes"])
    yield
    if demo.server is None:
        demo.start()


def test_known_numbers_keep_their_last_route_and_a_new_number_gets_503(demo: Demo, edge, tmp_path, request):
    expect(edge, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("na1"))
    expect(edge, tmp_path, number=UNKNOWN, expect=404)
    request.getfixturevalue("api_stopped")

    for transport in TRANSPORTS:
        expect(
            edge,
            tmp_path,
            number=VOICE,
            expect=302,
            transport=transport,
            header="Contact",
            pattern=redirected_to("na1"),
        )
        expect(edge, tmp_path, number=UNKNOWN, expect=404, transport=transport)
        expect(
            edge, tmp_path, number=NEVER_SEEN, expect=503, transport=transport, header="Retry-After", pattern="[0-9]+"
        )
        expect(edge, tmp_path, number=VOICE, expect=200, transport=transport, method="OPTIONS")

    demo.start()
    expect(edge, tmp_path, number=NEVER_SEEN, expect=404)  # asked again: a fresh answer, not a remembered 503
    demo.switch("bcp")
    try:
        expect(edge, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("eu1"))
    finally:
        demo.switch("primary")
    expect(edge, tmp_path, number=VOICE, expect=302, header="Contact", pattern=redirected_to("na1"))
