"""The real ``lifeboat`` program, run as a subprocess, and a client for its HTTP API.

    install = Installation.sqlite(tmp_path / "data")          # or .with_config(...)
    run_lifeboat("operator", "create", "ops", "--password-stdin", *install.flags(), input="...")
    server = LifeboatServer.start(install, log_path=tmp_path / "server.log")
    ops = server.operator()                                  # an httpx2.Client with a token
    ops.get("/api/v1/tenants")
    server.stop()

Every subprocess gets a clean environment: the caller's ``LIFEBOAT_*`` variables are
dropped (a developer's ``LIFEBOAT_CONFIG`` must not leak into a test), argon2 runs at its
cheapest, and rich prints plain, wide text.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2

OPERATOR = ("ops", "operator-password")
FAST_HASHING_ENV = {"LIFEBOAT_PASSWORD_TIME_COST": "1", "LIFEBOAT_PASSWORD_MEMORY_KIB": "64"}
CLI_TIMEOUT_S = 180
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20
HTTP_TIMEOUT_S = 60
API = "/api/v1"

T = TypeVar("T")


def lifeboat_executable() -> str:
    """The ``lifeboat`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("lifeboat")
    if beside.is_file():
        return str(beside)
    found = shutil.which("lifeboat")
    if found is None:
        raise RuntimeError("the 'lifeboat' program is not installed (pip install -e .)")
    return found


def lifeboat_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEBOAT_")}
    env.update(FAST_HASHING_ENV)
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def run_lifeboat(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = CLI_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run ``lifeboat ARGS`` to the end; ``env`` adds to (or overrides) the clean environment."""
    return subprocess.run(
        [lifeboat_executable(), *args],
        input=input,
        env=lifeboat_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command as an assertion message."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def wait_until(check: Callable[[], T], *, timeout: float = 60, interval: float = 0.1, what: str = "condition") -> T:
    """Poll ``check`` until it returns a truthy value (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {value!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------ installations


@dataclass(frozen=True)
class Installation:
    """Where one lifeboat keeps its data, and the flags that point a command at it.

    ``urls`` names the databases that are not SQLite files in ``data_dir``; with
    ``use_flags=False`` commands get no flags (the environment must point them)."""

    kind: str  # "sqlite" or "postgres": where the directory and the regions live
    data_dir: Path
    config: Path | None = None
    urls: Mapping[str, str] = field(default_factory=dict)
    use_flags: bool = True

    @classmethod
    def sqlite(cls, data_dir: Path) -> Installation:
        return cls("sqlite", data_dir)

    @classmethod
    def with_config(
        cls,
        kind: str,
        data_dir: Path,
        config_path: Path,
        *,
        directory_url: str | None = None,
        regions: Sequence[Mapping[str, Any]] = (),
    ) -> Installation:
        config_path.write_text(config_toml(data_dir=data_dir, directory_url=directory_url, regions=regions))
        urls = {r["name"]: r["database_url"] for r in regions if r.get("database_url")}
        if directory_url:
            urls["directory"] = directory_url
        return cls(kind, data_dir, config_path, urls)

    def flags(self) -> list[str]:
        if not self.use_flags:
            return []
        return ["--config", str(self.config)] if self.config else ["--data-dir", str(self.data_dir)]

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL of the ``directory`` or of a region's database."""
        if name in self.urls:
            return self.urls[name]
        return f"sqlite:///{self.data_dir / ('directory.db' if name == 'directory' else f'region-{name}.db')}"


def config_toml(*, data_dir: Path, directory_url: str | None = None, regions: Sequence[Mapping[str, Any]] = ()) -> str:
    """A ``lifeboat.toml``. JSON strings are valid TOML basic strings."""
    lines = [f"data_dir = {json.dumps(str(data_dir))}"]
    if directory_url:
        lines.append(f"directory_url = {json.dumps(directory_url)}")
    for region in regions:
        lines += ["", "[[regions]]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in region.items() if value is not None]
    return "\n".join(lines) + "\n"


def region(name: str, id_block: int, database_url: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "voice_cluster": f"sip:{name}.voice.lifeboat.test",
        "id_block": id_block,
        "database_url": database_url,
    }


def create_operator(install: Installation, name: str = OPERATOR[0], password: str = OPERATOR[1]) -> None:
    result = run_lifeboat("operator", "create", name, "--password-stdin", *install.flags(), input=password + "\n")
    assert result.returncode == 0, describe(result)


# ------------------------------------------------------------------------------ server


@dataclass(repr=False)
class LifeboatServer:
    """A running ``lifeboat serve`` on a loopback port, with an HTTP client for it."""

    process: subprocess.Popen
    base_url: str
    log_path: Path
    http: httpx2.Client
    _clients: list[httpx2.Client] = field(default_factory=list)
    killed: bool = False  # True when SIGTERM did not end it in time

    @classmethod
    def start(
        cls, install: Installation, *, log_path: Path, env: Mapping[str, str] | None = None, attempts: int = 3
    ) -> LifeboatServer:
        """Start ``lifeboat serve`` and wait until ``GET /api/v1/status`` answers.

        The port is picked free just before the start; if another process takes it in
        between, the start is tried again on a new port."""
        for attempt in range(1, attempts + 1):
            port = free_port()
            log = log_path.open("ab")
            process = subprocess.Popen(
                [lifeboat_executable(), "serve", "--host", "127.0.0.1", "--port", str(port), *install.flags()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=lifeboat_env(env),
                cwd=log_path.parent,
            )
            log.close()
            base_url = f"http://127.0.0.1:{port}"
            server = cls(process, base_url, log_path, _client(base_url))
            if server._wait_ready():
                return server
            server.stop()
            if attempt == attempts or "address already in use" not in server.log_text().lower():
                raise RuntimeError(f"lifeboat serve did not become ready on {base_url}\n{server.log_text()}")
        raise AssertionError("unreachable")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.http.get(f"{API}/status", timeout=5).status_code == 200:
                    return True
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        return False

    def __repr__(self) -> str:
        return f"LifeboatServer({self.base_url}, pid={self.process.pid}, log={self.log_path})"

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # --- clients

    def client(self, headers: Mapping[str, str] | None = None) -> httpx2.Client:
        client = _client(self.base_url, headers)
        self._clients.append(client)
        return client

    def login(self, username: str, password: str, tenant_id: int | None = None) -> httpx2.Client:
        """Log in over HTTP; returns a client that sends the bearer token."""
        body: dict[str, Any] = {"username": username, "password": password}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        response = self.http.post(f"{API}/auth/login", json=body)
        assert response.status_code == 200, f"login of {username!r} failed: {response.status_code} {response.text}"
        answer = response.json()
        assert "token" in answer, (
            f"login of {username!r} gave no token (a 'multiple' user chooses a tenant_id): {answer}"
        )
        return self.client({"Authorization": f"Bearer {answer['token']}"})

    def operator(self) -> httpx2.Client:
        return self.login(*OPERATOR)

    def status(self) -> dict[str, Any]:
        response = self.http.get(f"{API}/status")
        assert response.status_code == 200, response.text
        return response.json()

    def region_status(self) -> dict[str, str]:
        return {r["name"]: r["status"] for r in self.status()["regions"]}

    # --- the end

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down cleanly), then SIGKILL after a timeout."""
        for client in [self.http, *self._clients]:
            client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)


def _client(base_url: str, headers: Mapping[str, str] | None = None) -> httpx2.Client:
    # trust_env=False: a proxy configured in the environment must not see loopback traffic.
    return httpx2.Client(base_url=base_url, headers=dict(headers or {}), timeout=HTTP_TIMEOUT_S, trust_env=False)


def error_code(response: httpx2.Response) -> str | None:
    """The stable ``error.code`` of an error answer (SPEC §9)."""
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
