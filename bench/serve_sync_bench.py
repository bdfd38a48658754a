"""The first sync inside a real ``lifeboat serve`` against the same sync in one process (issue 13, item 4).

    .venv/bin/python bench/serve_sync_bench.py                 # profile L (10,000 users), twice each
    .venv/bin/python bench/serve_sync_bench.py --users 1000 --repeat 1 --workers process

What a user does: ``lifeboat demo --users N`` on a temporary data directory (SQLite), which
pairs the tenant with a BCP tenant and turns sync on, so the first run is queued. That data
directory is copied before anything runs it, and each round runs the same first sync in each
of these places, each time on a fresh copy:

- in one process: ``jobs.work_once`` called in this benchmark's process, as
  ``bench/sync_bench.py`` measures it;
- in ``lifeboat serve --worker process`` (the default: the worker is a child process of the
  server) and ``--worker thread`` (the worker is a thread of the server, as it was before
  issue 13): the real server on a free port; once ``/healthz`` answers, admin logs
  in and asks for "sync now" (``POST .../bcp/sync-runs``, which answers with the run already
  queued), and the run is read back over the API until it has ended. Meanwhile one client
  asks ``GET /healthz`` every 20 ms and another reads the run every 500 ms, as the console's
  progress panel does; their latencies while the run is under way (between the
  ``started_at`` and ``finished_at`` of its record) are reported (p50, p95, max), and
  ``/healthz`` again once the run has ended (idle).

The durations are the ``duration_s`` of each run's record, so every place is timed by the
same code. The CPU time of the run in one process is shown too: other programs sharing the
machine stretch the wall clock, hardly the CPU time. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lifeboat.bootstrap import build_platform
from lifeboat.config import load_settings
from lifeboat.jobs import work_once
from lifeboat.services.bcp.pairing import only_plan_tenant

PASSWORD = "lifeboat-demo"  # the demo's accounts
HEALTH_EVERY_S, RUN_EVERY_S = 0.02, 0.5


@dataclass
class Served:
    """One first run inside ``lifeboat serve --worker <mode>``."""

    mode: str
    serve_s: float = 0.0
    health_ms: list[float] = field(default_factory=list)
    run_get_ms: list[float] = field(default_factory=list)
    idle_health_ms: list[float] = field(default_factory=list)


@dataclass
class Round:
    inproc_s: float = 0.0
    inproc_cpu_s: float = 0.0
    served: list[Served] = field(default_factory=list)


def lifeboat_program() -> str:
    beside = Path(sys.executable).with_name("lifeboat")
    return str(beside) if beside.is_file() else shutil.which("lifeboat") or "lifeboat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------- in one process


def run_in_process(data_dir: Path) -> tuple[float, float]:
    """The queued first run carried out here; (duration_s of its record, CPU seconds)."""
    platform = build_platform(load_settings(None, data_dir=data_dir))
    cpu = time.process_time()
    run = work_once(platform)
    cpu = time.process_time() - cpu
    platform.close()
    assert run is not None and run.status == "succeeded", run
    return float(run.report["duration_s"]), cpu


# ---------------------------------------------------------------------------- in serve


class Client:
    """One keep-alive connection; each call answers (status, JSON body, milliseconds)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any, float]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            answer = self.conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        ms = (time.perf_counter() - started) * 1000
        return answer.status, json.loads(data) if data else None, ms


def poll(client: Client, path: str, every_s: float, stop: threading.Event, into: list[tuple[float, float]]) -> None:
    """Ask ``path`` every ``every_s`` until ``stop``; (when asked, milliseconds) into ``into``."""
    while not stop.is_set():
        asked = time.time()
        with contextlib.suppress(OSError, http.client.HTTPException):
            into.append((asked, client.call("GET", path)[2]))
        stop.wait(every_s)


def epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def run_in_serve(data_dir: Path, tenant_id: int, log: Path, result: Served) -> None:
    port = free_port()
    command = [lifeboat_program(), "serve", "--data-dir", str(data_dir), "--port", str(port), "--worker", result.mode]
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        health = Client(port)
        deadline = time.monotonic() + 120
        while True:
            try:
                if health.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"lifeboat serve did not answer; see {log}")
            time.sleep(0.05)
        stop = threading.Event()
        asked: list[tuple[float, float]] = []
        pollers = [threading.Thread(target=poll, args=(health, "/healthz", HEALTH_EVERY_S, stop, asked))]
        pollers[0].start()
        admin = Client(port)
        status, body, _ = admin.call(
            "POST", "/api/v1/auth/login", {"username": "admin", "password": PASSWORD, "tenant_id": tenant_id}
        )
        assert status == 200, body
        admin.token = body["token"]
        status, run, _ = admin.call("POST", f"/api/v1/tenants/{tenant_id}/bcp/sync-runs", {})
        assert status == 202, run
        run_path = f"/api/v1/tenants/{tenant_id}/bcp/sync-runs/{run['id']}"
        while run["status"] in ("queued", "running"):
            time.sleep(RUN_EVERY_S)
            status, run, ms = admin.call("GET", run_path)
            if run["status"] == "running":
                result.run_get_ms.append(ms)
        stop.set()
        pollers[0].join()
        assert run["status"] == "succeeded", run
        result.serve_s = float(run["duration_s"])
        started, ended = epoch(run["started_at"]), epoch(run["finished_at"])
        result.health_ms = [ms for at, ms in asked if started <= at <= ended]  # the run under way only
        for _ in range(100):  # the same question, nothing running
            result.idle_health_ms.append(health.call("GET", "/healthz")[2])
            time.sleep(HEALTH_EVERY_S)
    finally:
        server.terminate()
        server.wait(timeout=60)


# ------------------------------------------------------------------------------ report


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(console: Console, rounds: list[Round]) -> None:
    table = Table(title="first sync on sqlite: in one process vs inside lifeboat serve (duration_s of the run record)")
    for name in ("round", "where", "duration s", "cpu s", "/ in process"):
        table.add_column(name, justify="right")
    for i, r in enumerate(rounds, 1):
        table.add_row(str(i), "one process", f"{r.inproc_s:.2f}", f"{r.inproc_cpu_s:.2f}", "1.00")
        for served in r.served:
            ratio = served.serve_s / r.inproc_s if r.inproc_s else float("nan")
            where = f"serve --worker {served.mode}"
            table.add_row(str(i), where, f"{served.serve_s:.2f}", "", f"{ratio:.2f}")
    console.print(table)
    latency = Table(title="latency in lifeboat serve, ms")
    for name in ("--worker", "request", "when", "n", "p50", "p95", "max"):
        latency.add_column(name, justify="right")
    for mode in dict.fromkeys(s.mode for r in rounds for s in r.served):
        served = [s for r in rounds for s in r.served if s.mode == mode]
        series = (
            ("GET /healthz", "during the sync", [ms for s in served for ms in s.health_ms]),
            ("GET sync-runs/{id}", "during the sync", [ms for s in served for ms in s.run_get_ms]),
            ("GET /healthz", "idle, after it", [ms for s in served for ms in s.idle_health_ms]),
        )
        for name, when, values in series:
            latency.add_row(
                mode,
                name,
                when,
                str(len(values)),
                f"{statistics.median(values):.1f}" if values else "-",
                f"{quantile(values, 0.95):.1f}",
                f"{max(values, default=float('nan')):.1f}",
            )
    console.print(latency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000, help="demo size (10,000: profile L)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of both measurements")
    parser.add_argument(
        "--workers",
        default="process,thread",
        help="the serve --worker modes to measure, comma-separated (thread: the worker inside the server)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    args = parser.parse_args()
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="lifeboat-serve-sync-"))
    try:
        pristine = work / "demo"
        console.print(f"lifeboat demo --users {args.users} in {pristine} ...")
        subprocess.run(
            [lifeboat_program(), "demo", "--users", str(args.users), "--data-dir", str(pristine)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tenant_id = only_plan_tenant(build_platform(load_settings(None, data_dir=pristine)))
        rounds = []
        for i in range(args.repeat):
            result = Round()
            inproc = work / f"inproc-{i}"
            shutil.copytree(pristine, inproc)
            result.inproc_s, result.inproc_cpu_s = run_in_process(inproc)
            console.print(f"round {i + 1}: in one process {result.inproc_s:.2f} s")
            for mode in args.workers.split(","):
                served = Served(mode)
                shutil.copytree(pristine, work / f"{mode}-{i}")
                run_in_serve(work / f"{mode}-{i}", tenant_id, work / f"{mode}-{i}.log", served)
                console.print(f"round {i + 1}: in serve --worker {mode} {served.serve_s:.2f} s")
                result.served.append(served)
            rounds.append(result)
        report(console, rounds)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
