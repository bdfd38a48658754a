"""Console page benchmark (issue 9): the server time of the pages administrators open most,
with the profile L tenant (10,000 employees) on SQLite.

    .venv/bin/python bench/console_bench.py                  # profile L, 200 requests a page
    .venv/bin/python bench/console_bench.py --users 40 --requests 5

It builds a paired tenant as ``bench/continuity_bench.py`` does (the demo profile at
``--users`` scale in na1, synced into eu1, a few more sync runs for the history), logs the
demo's ``admin`` in through the console's own form, and requests each page ``--requests``
times through the in-process ASGI client, interleaved (a change of load on a shared machine
touches every page alike): Overview (/), BCP access (the first page, and a search), Sync
(/bcp/sync, settings and the history of runs). The time is the request's round trip inside
the process: routing, services, database reads and the template, without a network.
Printed: median and p95 of each page against the target (p95 < 150 ms), and the CPU time of
this process per request (what the page costs when the host is not shared); never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from time import perf_counter, process_time

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from lifeboat.api.app import create_app
from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import Settings
from lifeboat.demo.center import DEMO_PASSWORD, load_contact_center
from lifeboat.demo.profile import PROFILE_L, scaled
from lifeboat.domain.access import Principal
from lifeboat.jobs import work_once
from lifeboat.services.bcp.pairing import create_plan, update_settings
from lifeboat.services.bcp.sync import request_run
from lifeboat.services.tenancy.tenants import create_tenant

TARGET_P95_MS = 150
BENCH_OPERATOR = Principal("operator", 0, "bench")
PAGES = {  # what the table calls each page: its URL
    "Overview": "/",
    "BCP access, first page": "/bcp/access",
    "BCP access, search": "/bcp/access?q=agent12",
    "Sync (settings and run history)": "/bcp/sync",
}


def build(settings: Settings, users: int, runs: int, say: Callable[[str], object]) -> tuple[Platform, int]:
    platform = build_platform(settings)
    migrate_platform(platform)
    primary = create_tenant(platform, BENCH_OPERATOR, "Bench primary", "na1")
    bcp = create_tenant(platform, BENCH_OPERATOR, "Bench BCP", "eu1")
    started = perf_counter()
    load_contact_center(platform, BENCH_OPERATOR, primary.id, scaled(users))
    say(f"loaded the primary tenant in {perf_counter() - started:.1f} s")
    create_plan(platform, BENCH_OPERATOR, primary.id, bcp.id)
    update_settings(platform, BENCH_OPERATOR, primary.id, {"enabled": True})
    started = perf_counter()
    work_once(platform)
    for _ in range(runs - 1):  # a history to list (each later run finds little to change)
        request_run(platform, BENCH_OPERATOR, primary.id, force=True)
        work_once(platform)
    say(f"{runs} sync runs in {perf_counter() - started:.1f} s")
    return platform, primary.id


def logged_in(platform: Platform, tenant_id: int) -> TestClient:
    client = TestClient(create_app(platform=platform), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    form = {"csrf_token": token, "username": "admin", "password": DEMO_PASSWORD, "tenant_id": str(tenant_id)}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def measure(client: TestClient, requests: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU milliseconds of each request, per page (the server runs in this process)."""
    wall: dict[str, list[float]] = {name: [] for name in PAGES}
    cpu: dict[str, list[float]] = {name: [] for name in PAGES}
    for url in PAGES.values():  # one warm-up each: templates compiled, caches filled
        assert client.get(url).status_code == 200, url
    for _ in range(requests):
        for name, url in PAGES.items():
            started, cpu_started = perf_counter(), process_time()
            answer = client.get(url)
            wall[name].append((perf_counter() - started) * 1000)
            cpu[name].append((process_time() - cpu_started) * 1000)
            assert answer.status_code == 200, (url, answer.status_code)
    return wall, cpu


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def table(wall: dict[str, list[float]], cpu: dict[str, list[float]], users: int) -> Table:
    out = Table(title=f"Console pages, sqlite, {users:,} employees: server time per request (ms)")
    columns = ("page", "url", "requests", "median", "p95", f"target p95 < {TARGET_P95_MS}", "CPU median", "CPU p95")
    for column in columns:
        out.add_column(column, justify="left" if column in ("page", "url") else "right")
    for name, values in wall.items():
        high = p95(values)
        out.add_row(
            name,
            PAGES[name],
            str(len(values)),
            f"{statistics.median(values):.1f}",
            f"{high:.1f}",
            "met" if high < TARGET_P95_MS else "MISSED",
            f"{statistics.median(cpu[name]):.1f}",
            f"{p95(cpu[name]):.1f}",
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=PROFILE_L.users, help="employees (default: profile L)")
    parser.add_argument("--requests", type=int, default=200, help="requests of each page")
    parser.add_argument("--runs", type=int, default=5, help="sync runs in the history")
    args = parser.parse_args(argv)
    console = Console(width=160)
    console.print(
        f"profile: {scaled(args.users)}; host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="lifeboat-console-") as tmp:
        platform, tenant_id = build(Settings(data_dir=Path(tmp) / "sqlite"), args.users, args.runs, console.print)
        with logged_in(platform, tenant_id) as client:
            wall, cpu = measure(client, args.requests)
        platform.close()
    console.print(table(wall, cpu, args.users))
    console.print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the host slows every figure)")


if __name__ == "__main__":
    main()
