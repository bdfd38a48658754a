"""The first sync inside a real ``lifeboat serve`` against the same sync in one process (issue 13, item 4).

    .venv/bin/python bench/serve_sync_bench.py                 # profile L (10,000 users), twice each
    .venv/bin/python bench/serve_sync_bench.py --users 1000 --repeat 1

What a user does: ``lifeboat demo --users N`` on a temporary data directory (SQLite), which
pairs the tenant with a BCP tenant and turns sync on, so the first run is queued. That data
directory is copied before anything runs it, and each round runs the same first sync twice,
each time on a fresh copy:

- in one process: ``jobs.work_once`` called in this benchmark's process, as
  ``bench/sync_bench.py`` measures it;
- in ``lifeboat serve``: the real server on a free port; once ``/healthz`` answers, admin logs
  in and asks for "sync now" (``POST .../bcp/sync-runs``, which answers with the run already
  queued), and the run is read back over the API until it has ended. Meanwhile one client
  asks ``GET /healthz`` every 20 ms and another reads the run every 500 ms, as the console's
  progress panel does; their latencies during the run are reported (p50, p95, max), and
  ``/healthz`` again once the run has ended (idle).

The durations are the ``duration_s`` of each run's record, so both sides are timed by the
same code. CPU time is shown too (this process's; the server's from ``/proc``, the whole
process including its worker if that is a child): other programs sharing the machine
stretch the wall clock, hardly the CPU time. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    inproc_s: float = 0.0
    inproc_cpu_s: float = 0.0
    serve_s: float = 0.0
    serve_cpu_s: float = 0.0
    health_ms: list[float] = field(default_factory=list)
    run_get_ms: list[float] = field(default_factory=list)
    idle_health_ms: list[float] = field(default_factory=list)


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


def cpu_of(pid: int) -> float:
    """CPU seconds of a process and its children that have been waited for, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def children_cpu(pid: int) -> float:
    """CPU seconds of the live child processes of ``pid`` (a worker process, if any)."""
    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += cpu_of(int(path.parent.name))
    return total


def poll(client: Client, path: str, every_s: float, stop: threading.Event, into: list[float]) -> None:
    while not stop.is_set():
        with contextlib.suppress(OSError, http.client.HTTPException):
            into.append(client.call("GET", path)[2])
        stop.wait(every_s)


def run_in_serve(data_dir: Path, tenant_id: int, log: Path, result: Round) -> None:
    port = free_port()
    command = [lifeboat_program(), "serve", "--data-dir", str(data_dir), "--port", str(port)]
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
        cpu_start = cpu_of(server.pid) + children_cpu(server.pid)
        stop = threading.Event()
        pollers = [threading.Thread(target=poll, args=(health, "/healthz", HEALTH_EVERY_S, stop, result.health_ms))]
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
            result.run_get_ms.append(ms)
        stop.set()
        pollers[0].join()
        result.serve_cpu_s = cpu_of(server.pid) + children_cpu(server.pid) - cpu_start
        assert run["status"] == "succeeded", run
        result.serve_s = float(run["duration_s"])
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
    table = Table(title="first sync: in one process vs inside lifeboat serve (duration_s of the run record)")
    for name in ("round", "in process s", "cpu s", "serve s", "cpu s", "serve / in process"):
        table.add_column(name, justify="right")
    for i, r in enumerate(rounds, 1):
        ratio = r.serve_s / r.inproc_s if r.inproc_s else float("nan")
        table.add_row(
            str(i),
            f"{r.inproc_s:.2f}",
            f"{r.inproc_cpu_s:.2f}",
            f"{r.serve_s:.2f}",
            f"{r.serve_cpu_s:.2f}",
            f"{ratio:.2f}",
        )
    console.print(table)
    latency = Table(title="latency in lifeboat serve, ms")
    for name in ("request", "when", "n", "p50", "p95", "max"):
        latency.add_column(name, justify="right")
    series = (
        ("GET /healthz", "during the sync", [ms for r in rounds for ms in r.health_ms]),
        ("GET sync-runs/{id}", "during the sync", [ms for r in rounds for ms in r.run_get_ms]),
        ("GET /healthz", "idle, after it", [ms for r in rounds for ms in r.idle_health_ms]),
    )
    for name, when, values in series:
        latency.add_row(
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
            inproc, served = work / f"inproc-{i}", work / f"serve-{i}"
            shutil.copytree(pristine, inproc)
            shutil.copytree(pristine, served)
            result.inproc_s, result.inproc_cpu_s = run_in_process(inproc)
            run_in_serve(served, tenant_id, work / f"serve-{i}.log", result)
            console.print(f"round {i + 1}: in process {result.inproc_s:.2f} s, in serve {result.serve_s:.2f} s")
            rounds.append(result)
        report(console, rounds)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
