"""A real ``lifeboat serve`` over the demo, real Kamailio edges in front of it, sipp calling.

Without Kamailio (with its modules) or sipp these tests skip, except with ``CI=true``: CI
installs them (``.ci/run``), so there a missing one is a failure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from lifeboat.edge.software import find_kamailio
from lifeboat.errors import Unavailable
from tests.e2e.lifeboat_process import (
    API,
    HTTP_TIMEOUT_S,
    Installation,
    LifeboatServer,
    describe,
    free_port,
    lifeboat_env,
    lifeboat_executable,
    run_lifeboat,
    wait_until,
)
from tests.edge.sip import sipp_path

DEMO_USERS = "10"
PASSWORD = "lifeboat-demo"
SYNC_TIMEOUT_S = 180
EDGE_READY_S = 30


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
    pytest.skip(reason)


def require_sip_tools() -> None:
    try:
        find_kamailio()
    except Unavailable as exc:
        skip_or_fail(exc.message)
    if sipp_path() is None:
        skip_or_fail("sipp not found (apt-get install sip-tester)")


@dataclass
class Demo:
    install: Installation
    folder: Path
    passkey: str
    primary: int
    bcp: int
    port: int
    server: LifeboatServer | None = None
    operator: httpx2.Client | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """``lifeboat serve`` on the demo's own port (the edges were told this address)."""
        log = (self.folder / "server.log").open("ab")
        process = subprocess.Popen(
            [lifeboat_executable(), "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.install.flags()],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=lifeboat_env(),
            cwd=self.folder,
        )
        log.close()
        client = httpx2.Client(base_url=self.api, timeout=HTTP_TIMEOUT_S, trust_env=False)
        self.server = LifeboatServer(process, self.api, self.folder / "server.log", client)
        assert self.server._wait_ready(), self.server.log_tail()
        self.operator = self.server.login("operator", PASSWORD)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def switch(self, to: str) -> dict[str, Any]:
        assert self.operator is not None
        response = self.operator.post(
            f"{API}/tenants/{self.primary}/bcp/switch", json={"to": to, "passkey": self.passkey}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def edges(self) -> dict[str, dict[str, Any]]:
        assert self.operator is not None
        response = self.operator.get(f"{API}/voice/edges")
        assert response.status_code == 200, response.text
        return {e["name"]: e for e in response.json()["items"]}

    def wait_first_sync(self) -> None:
        assert self.operator is not None
        operator = self.operator

        def finished() -> dict[str, Any] | None:
            runs = operator.get(f"{API}/tenants/{self.primary}/bcp/sync-runs").json()["items"]
            return next((r for r in runs if r["status"] in ("succeeded", "failed", "held")), None)

        run = wait_until(finished, timeout=SYNC_TIMEOUT_S, interval=0.3, what="the first sync")
        assert run["status"] == "succeeded", run


@dataclass
class Edge:
    name: str
    port: int
    rpc_port: int
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.is_file() else "(no log)"


def make_demo(folder: Path) -> Demo:
    install = Installation.sqlite(folder / "data")
    result = run_lifeboat("demo", *install.flags(), "--users", DEMO_USERS)
    assert result.returncode == 0, describe(result)
    printed = result.stdout
    primary = int(re.search(r"Primary tenant: .* id (\d+), region na1", printed).group(1))  # type: ignore[union-attr]
    bcp = int(re.search(r"BCP tenant: .* id (\d+), region eu1", printed).group(1))  # type: ignore[union-attr]
    passkey = re.search(r"BCP passkey:\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
    demo = Demo(install, folder, passkey, primary, bcp, free_port())
    demo.start()
    demo.wait_first_sync()
    return demo


def start_edge(demo: Demo, name: str, folder: Path) -> Edge:
    """``lifeboat edge run`` (the token minted from the demo's data folder), registered."""
    port, rpc_port = free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            lifeboat_executable(),
            *("edge", "run", "--name", name, "--port", str(port), "--rpc-port", str(rpc_port)),
            *("--api", demo.api, "--run-dir", str(folder / name), "--children", "4", *demo.install.flags()),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=lifeboat_env(),
    )
    log.close()
    edge = Edge(name, port, rpc_port, folder, process, log_path)
    try:
        wait_until(lambda: name in demo.edges() or process.poll() is not None, timeout=EDGE_READY_S, what=name)
    except AssertionError:
        edge.stop()
        raise AssertionError(f"edge {name} did not register\n{edge.log_tail()}") from None
    assert process.poll() is None, edge.log_tail()
    return edge


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    require_sip_tools()
    made = make_demo(tmp_path_factory.mktemp("edge-demo"))
    yield made
    made.stop()


@pytest.fixture(scope="module")
def edge(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    started = start_edge(demo, "edge-a", tmp_path_factory.mktemp("edge-a"))
    yield started
    started.stop()
