"""Static stability when the routing API answers badly (SPEC §12): slower than the edge's
time-out, or with a 5xx. Known numbers keep their last route; a number never seen gets 503
with Retry-After.

The subject is the real Kamailio's behaviour on a failing upstream, so a tiny HTTP stub
stands in for the routing API at the edge's ``--api`` address (lifeboat itself is neither
slow nor failing on demand); the stopped-API case runs against the real one in
test_static_stability.py."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lifeboat.edge.rpc import rpc
from tests.e2e.lifeboat_process import free_port, lifeboat_env, lifeboat_executable
from tests.edge.conftest import EDGE_READY_S, Edge, require_sip_tools
from tests.edge.sip import call, explain

KNOWN = "+12025550100"
NEVER_SEEN = "+12025550188"
CLUSTER = "sip:na1.voice.lifeboat.test"
SLOWER_THAN_THE_EDGE_S = 3.0  # the edge gives the API 1 s


class StubRoutingApi:
    """Answers like lifeboat's routing API while ``mode`` is "ok"; "slow" or "failing" otherwise."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.lookups: list[tuple[str, str]] = []  # (mode, number)
        self.registered = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                number = parse_qs(urlsplit(self.path).query).get("number", [""])[0]
                stub.lookups.append((stub.mode, number))
                if stub.mode == "slow":
                    time.sleep(SLOWER_THAN_THE_EDGE_S)
                if stub.mode == "failing":
                    self.answer(503, {"error": {"code": "region_unavailable", "message": "down", "details": {}}})
                elif number == KNOWN:
                    self.answer(200, {"number": number, "cluster": CLUSTER, "region": "na1"})
                else:
                    self.answer(404, {"error": {"code": "number_not_found", "message": "unknown", "details": {}}})

            def do_POST(self) -> None:  # the edge registering: accepted
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.registered.set()
                self.answer(200, {})

            def answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the edge gave up waiting (slow mode)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stub() -> Iterator[StubRoutingApi]:
    require_sip_tools()
    made = StubRoutingApi()
    yield made
    made.close()


@pytest.fixture(scope="module")
def stub_edge(stub: StubRoutingApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    folder = tmp_path_factory.mktemp("stub-edge")
    (folder / "token").write_text("stub-voice-token-0123456789")
    port, rpc_port = free_port(), free_port()
    log = folder / "edge.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                lifeboat_executable(),
                *("edge", "run", "--name", "stubbed", "--port", str(port), "--rpc-port", str(rpc_port)),
                *("--api", stub.url, "--token-file", str(folder / "token"), "--run-dir", str(folder / "run")),
                *("--children", "4"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=lifeboat_env(),
        )
    edge = Edge("stubbed", port, rpc_port, folder, process, log)
    if not stub.registered.wait(EDGE_READY_S):
        edge.stop()
        pytest.fail(f"the edge did not register with the stub\n{edge.log_tail()}")
    yield edge
    edge.stop()


def expect(edge: Edge, folder: Path, **kwargs: Any) -> None:
    result = call(folder, edge.port, **kwargs)
    assert result.returncode == 0, explain(result, folder) + "\n--- edge\n" + edge.log_tail()


def forget_the_cache(edge: Edge) -> None:
    """As the 5 s expiry would: what answers next is the API, or else the last known route."""
    rpc(f"http://127.0.0.1:{edge.rpc_port}/RPC", "htable.flush", ["routes"])


@pytest.mark.parametrize("mode", ["slow", "failing"])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_known_numbers_keep_their_last_route_and_a_never_seen_number_gets_503(
    stub, stub_edge, tmp_path, mode, transport
):
    stub.mode = "ok"
    forget_the_cache(stub_edge)
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, transport=transport, header="Contact", pattern="na1")
    expect(stub_edge, tmp_path, number="+12025550199", expect=404, transport=transport)

    stub.mode = mode
    forget_the_cache(stub_edge)
    asked = len(stub.lookups)
    contact = r"<sip:\+12025550100@na1\.voice\.lifeboat\.test>"
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, transport=transport, header="Contact", pattern=contact)
    expect(stub_edge, tmp_path, number="+12025550199", expect=404, transport=transport)
    expect(
        stub_edge, tmp_path, number=NEVER_SEEN, expect=503, transport=transport, header="Retry-After", pattern="[0-9]+"
    )
    # Each answer above came after the API was asked and failed, not from a stale cache.
    asked_now = [number for seen_mode, number in stub.lookups[asked:] if seen_mode == mode]
    assert {KNOWN, "+12025550199", NEVER_SEEN} <= set(asked_now)


def test_a_slow_api_is_given_up_on_after_the_edges_time_out(stub, stub_edge, tmp_path):
    stub.mode = "slow"
    forget_the_cache(stub_edge)
    started = time.monotonic()
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")
    assert time.monotonic() - started < SLOWER_THAN_THE_EDGE_S  # it did not wait for the API's answer


def test_with_a_slow_api_a_known_number_costs_one_lookup_per_cache_time_not_one_per_call(stub, stub_edge, tmp_path):
    stub.mode = "ok"
    forget_the_cache(stub_edge)
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")
    stub.mode = "slow"
    forget_the_cache(stub_edge)
    asked = len(stub.lookups)
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")  # waits out the API once
    started = time.monotonic()
    for _ in range(3):
        expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")
    assert time.monotonic() - started < 3 * 0.9  # none of them waited for the slow API
    assert [n for _, n in stub.lookups[asked:]] == [KNOWN]


def test_a_number_in_use_is_refreshed_after_the_reply_before_its_cache_time_ends(stub, stub_edge, tmp_path):
    stub.mode = "ok"
    forget_the_cache(stub_edge)
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")
    asked = len(stub.lookups)
    time.sleep(3.2)  # older than its refresh age (2 s for a number ending in 0), younger than 5 s
    expect(stub_edge, tmp_path, number=KNOWN, expect=302, header="Contact", pattern="na1")
    deadline = time.monotonic() + 5
    while len(stub.lookups) == asked and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [n for _, n in stub.lookups[asked:]] == [KNOWN]  # asked once more, by the edge, after answering
