"""Voice edges register and report (``POST /api/v1/voice/edges``, voice token), operators
list them, and a switch or revert tells every registered edge to flush its route cache —
best effort: an edge that cannot be reached never fails or holds up the switch. On SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.bcp_fixture import SyncedPlan, build_plan
from tests.e2e.lifeboat_process import free_port
from tests.integration.test_routing import voice_token
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, error_code

EDGES = f"{API}/voice/edges"


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    return build_plan(shared_api, shared_platform)


class FakeEdgeRpc:
    """A JSON-RPC endpoint that records what lifeboat asks of it, as Kamailio's jsonrpcs answers."""

    def __init__(self) -> None:
        calls: list[dict[str, Any]] = []
        self.calls = calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls.append(request)
                body = json.dumps({"jsonrpc": "2.0", "result": "Ok. Htable flushed.", "id": request["id"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/RPC"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_edge() -> Iterator[FakeEdgeRpc]:
    fake = FakeEdgeRpc()
    yield fake
    fake.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def report(plan: SyncedPlan, headers: dict[str, str], **body: Any) -> Any:
    return plan.api.post(EDGES, json=body, headers=headers)


def listed(plan: SyncedPlan) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in plan.ops.get(EDGES)["items"]}


def test_an_edge_registers_then_reports_its_answers_and_operators_see_it(plan):
    token, name = voice_token(plan, "edge token"), unique("edge")
    first = report(plan, token, name=name, rpc_url="http://127.0.0.1:9/RPC")
    assert first.status_code == 200, first.text
    again = report(plan, token, name=name, rpc_url="http://127.0.0.1:9/RPC", answers={"302": 7, "503": 1})
    assert again.status_code == 200, again.text

    edge = listed(plan)[name]
    assert edge["rpc_url"] == "http://127.0.0.1:9/RPC"
    assert edge["token_name"] == "edge token"
    assert edge["answers"] == {"302": 7, "404": 0, "480": 0, "503": 1}
    assert edge["registered_at"] == first.json()["registered_at"]
    assert edge["last_heard_at"] >= edge["registered_at"]


def test_only_voice_tokens_report_and_only_operators_list(plan):
    token = voice_token(plan)
    refused = report(plan, plan.ops.headers, name=unique("edge"), rpc_url="http://127.0.0.1:5080/RPC")
    assert (refused.status_code, error_code(refused)) == (403, "voice_token_required")
    listing = plan.api.get(EDGES, headers=token)
    assert (listing.status_code, error_code(listing)) == (403, "operator_required")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "bad name!", "rpc_url": "http://127.0.0.1:5080/RPC"}, "name"),
        ({"name": "edge", "rpc_url": "file:///etc/passwd"}, "rpc_url"),
        ({"name": "edge", "rpc_url": "http://127.0.0.1:5080/RPC", "answers": {"200": 1}}, "answers"),
        ({"name": "edge", "rpc_url": "http://127.0.0.1:5080/RPC", "answers": {"302": -1}}, "answers"),
        ({"name": "edge", "rpc_url": "http://127.0.0.1:5080/RPC", "extra": 1}, "extra"),
    ],
)
def test_a_malformed_report_is_refused_field_by_field(plan, body, field):
    response = plan.api.post(EDGES, json=body, headers=voice_token(plan))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["error"]["details"]["errors"]]


def test_a_switch_and_a_revert_tell_every_edge_to_flush_and_a_dead_edge_holds_nothing_up(plan, fake_edge):
    token, alive, dead = voice_token(plan), unique("alive"), unique("dead")
    assert report(plan, token, name=alive, rpc_url=fake_edge.url).status_code == 200
    assert report(plan, token, name=dead, rpc_url=f"http://127.0.0.1:{free_port()}/RPC").status_code == 200
    before = listed(plan)[alive]["last_heard_at"]

    started = time.monotonic()
    assert plan.switch("bcp").status_code == 200
    assert time.monotonic() - started < 5
    flushes = [c for c in fake_edge.calls if c["method"] == "htable.flush"]
    assert [c["params"] for c in flushes] == [["routes"]]
    assert listed(plan)[alive]["last_heard_at"] > before

    assert plan.switch("primary").status_code == 200
    assert len([c for c in fake_edge.calls if c["method"] == "htable.flush"]) == 2


def test_a_refused_switch_flushes_no_edge(plan, fake_edge):
    assert report(plan, voice_token(plan), name=unique("edge"), rpc_url=fake_edge.url).status_code == 200
    assert plan.switch("bcp", passkey="wrong-passkey").status_code == 403
    assert fake_edge.calls == []


@pytest.mark.parametrize(
    "rpc_url",
    [
        "http://8.8.8.8:5080/RPC",  # public
        "http://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "http://[::ffff:8.8.8.8]:5080/RPC",
        "http://edge.example.com:5080/RPC",  # a name could resolve anywhere later
        "http://localhost:5080/RPC",
        "http://0177.0.0.1:5080/RPC",
    ],
)
def test_an_rpc_address_outside_the_allowed_networks_is_refused(plan, rpc_url):
    name = unique("edge")
    response = report(plan, voice_token(plan), name=name, rpc_url=rpc_url)
    assert (response.status_code, error_code(response)) == (422, "edge_rpc_not_allowed"), response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "rpc_url"
    assert name not in listed(plan)


def test_the_operator_setting_decides_the_networks_and_an_edge_outside_them_is_not_called(
    plan, fake_edge, shared_platform, monkeypatch
):
    token, local, remote = voice_token(plan), unique("local"), unique("remote")
    assert report(plan, token, name=local, rpc_url=fake_edge.url).status_code == 200  # loopback: allowed by default

    monkeypatch.setattr(shared_platform.settings, "edge_rpc_networks", ["203.0.113.0/24"])
    assert report(plan, token, name=remote, rpc_url="http://203.0.113.9:5080/RPC").status_code == 200
    refused = report(plan, token, name=unique("edge"), rpc_url="http://127.0.0.1:5080/RPC")
    assert (refused.status_code, error_code(refused)) == (422, "edge_rpc_not_allowed")

    assert plan.switch("bcp").status_code == 200  # the loopback edge, registered before, is not called now
    assert fake_edge.calls == []
    monkeypatch.undo()
    assert plan.switch("primary").status_code == 200
    assert [c["method"] for c in fake_edge.calls] == ["htable.flush"]
