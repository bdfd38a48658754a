"""Foundation benchmark (issue 2, "Show"): build the profile L tenant and read it back.

For each backend -- SQLite always; PostgreSQL when ``LIFEBOAT_BENCH_POSTGRES_URL`` names a
server (a superuser URL: databases are created and dropped) or PostgreSQL's binaries are
installed (a throwaway server is started, as the tests do) -- it prints:

- load: time to load the tenant with the demo's own loader
  (``demo.center.load_contact_center``: the configuration, then the scripts);
- read: time to read the whole tenant back as domain values, ``EntityRepo.all_of`` in one
  read transaction (what a sync starts from): the first read, and the median of three,
  wall clock and this process's CPU time (the CPU time barely moves when other programs
  share the machine; on PostgreSQL it leaves out the server's own work);
- memory of that read: ``tracemalloc`` peak (Python allocations during the read: the
  values built plus transient driver buffers; measured in its own read, because tracing
  slows Python down), what is still held after it (the values), and the growth of the
  process's resident set (RSS) over the first read.

Figures are printed, never asserted.
"""

from __future__ import annotations

import contextlib
import os
import platform as host
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from rich.console import Console
from rich.table import Table

from lifeboat.bootstrap import build_platform, migrate_platform
from lifeboat.config import RegionSettings, Settings
from lifeboat.demo.center import load_contact_center
from lifeboat.demo.profile import PROFILE_L, Profile
from lifeboat.domain.access import Principal
from lifeboat.services.tenancy.tenants import create_tenant
from lifeboat.store.region import EntityRepo

POSTGRES_URL_ENV = "LIFEBOAT_BENCH_POSTGRES_URL"
READ_TARGET_S = 2.0
MB = 1024 * 1024
BENCH_OPERATOR = Principal("operator", 0, "bench")


@dataclass
class Figures:
    backend: str
    entities: int
    load_s: float
    load_cpu_s: float
    first_read_s: float
    median_read_s: float
    median_read_cpu_s: float
    peak_mb: float
    held_mb: float
    rss_growth_mb: float


def run(profile: Profile = PROFILE_L, *, postgres: bool = True, console: Console | None = None) -> list[Figures]:
    console = console or Console(width=150)  # a readable table when piped to a file, too
    console.print(f"profile: {profile}")
    console.print(
        f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"Python {host.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="lifeboat-bench-") as tmp:
        console.print("sqlite: loading ...")
        results.append(measure("sqlite", Settings(data_dir=Path(tmp) / "sqlite"), profile))
        if postgres:
            with postgres_settings(Path(tmp) / "pg", console) as settings:
                if settings is not None:
                    console.print("postgresql: loading ...")
                    results.append(measure("postgresql", settings, profile))
    console.print(figures_table(results))
    sqlite = results[0]
    verdict = "met" if sqlite.median_read_s < READ_TARGET_S else "NOT met"
    console.print(
        f"target, read under {READ_TARGET_S:.0f} s on SQLite: {verdict} "
        f"({sqlite.median_read_s:.2f} s wall clock, {sqlite.median_read_cpu_s:.2f} s CPU; "
        f"load average now {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs)"
    )
    return results


def measure(backend: str, settings: Settings, profile: Profile) -> Figures:
    platform = build_platform(settings)
    try:
        migrate_platform(platform)
        tenant = create_tenant(platform, BENCH_OPERATOR, "Bench profile", settings.regions[0].name)
        load_s, _, load_cpu_s = _timed(lambda: load_contact_center(platform, BENCH_OPERATOR, tenant.id, profile))
        region = platform.region(tenant.region)

        def read() -> list:
            with region.db.read() as conn:
                return EntityRepo(conn, region.id_block).all_of(tenant.id)

        rss_before = _rss_bytes()
        first_s, values, _ = _timed(read)
        rss_growth = _rss_bytes() - rss_before
        entities = len(values)
        del values
        reads = [_timed(read) for _ in range(3)]
        median_s = statistics.median(r[0] for r in reads)
        median_cpu_s = statistics.median(r[2] for r in reads)
        del reads
        peak, held = _traced(read)
        return Figures(
            backend,
            entities,
            load_s,
            load_cpu_s,
            first_s,
            median_s,
            median_cpu_s,
            peak / MB,
            held / MB,
            rss_growth / MB,
        )
    finally:
        platform.close()


def _timed(fn) -> tuple[float, object, float]:  # noqa: ANN001
    """(wall-clock seconds, result, CPU seconds of this process)."""
    started, cpu = perf_counter(), time.process_time()
    result = fn()
    return perf_counter() - started, result, time.process_time() - cpu


def _traced(fn) -> tuple[int, int]:  # noqa: ANN001
    tracemalloc.start()
    try:
        result = fn()
        held, peak = tracemalloc.get_traced_memory()
        del result
        return peak, held
    finally:
        tracemalloc.stop()


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def postgres_server(console: Console) -> Iterator[Any | None]:
    """The server named by LIFEBOAT_BENCH_POSTGRES_URL, or a throwaway local one, or None (said why)."""
    import pytest  # tests/postgres_server.py reports a missing server through pytest

    from tests.postgres_server import PostgresServer, _start_local_server, find_bindir

    cluster = None
    if os.environ.get(POSTGRES_URL_ENV):
        server = PostgresServer.from_url(os.environ[POSTGRES_URL_ENV])
        console.print(f"postgresql: the server of {POSTGRES_URL_ENV}")
    elif find_bindir() is None:
        console.print(f"postgresql: skipped (no server binaries; install postgresql or set {POSTGRES_URL_ENV})")
        yield None
        return
    else:
        try:
            server, cluster = _start_local_server()
        except (pytest.skip.Exception, pytest.fail.Exception) as exc:
            console.print(f"postgresql: skipped ({exc})")
            yield None
            return
        console.print("postgresql: a throwaway local server (fsync and synchronous_commit off, as in the tests)")
    try:
        yield server
    finally:
        if cluster is not None:
            cluster.remove()


@contextlib.contextmanager
def postgres_settings(data_dir: Path, console: Console) -> Iterator[Settings | None]:
    """Settings over three fresh databases on a PostgreSQL server, or None (said why)."""
    with postgres_server(console) as server:
        if server is None:
            yield None
            return
        names = {"directory": "lifeboat_bench_directory", "na1": "lifeboat_bench_na1", "eu1": "lifeboat_bench_eu1"}
        try:
            urls = {key: server.create_database(name) for key, name in names.items()}
            regions = [
                RegionSettings(
                    name=name, voice_cluster=f"sip:{name}.voice.lifeboat.test", id_block=block, database_url=urls[name]
                )
                for block, name in ((1, "na1"), (2, "eu1"))
            ]
            yield Settings(data_dir=data_dir, directory_url=urls["directory"], regions=regions)
        finally:
            for name in names.values():
                with contextlib.suppress(Exception):
                    server.drop_database(name)


def figures_table(results: list[Figures]) -> Table:
    table = Table(
        "backend",
        "entities",
        "load s",
        "load CPU s",
        "read s, first",
        "read s, median of 3",
        "read CPU s",
        "read peak MB",
        "held MB",
        "RSS growth MB",
        title="load the tenant, read it back as domain values",
        caption="CPU s: this process's CPU time (PostgreSQL's own work not included); read peak: "
        "tracemalloc peak during one read; held: Python memory still held by the values; "
        "RSS growth: resident set growth over the first read",
    )
    for r in results:
        table.add_row(
            r.backend,
            f"{r.entities:,}",
            f"{r.load_s:.2f}",
            f"{r.load_cpu_s:.2f}",
            f"{r.first_read_s:.2f}",
            f"{r.median_read_s:.2f}",
            f"{r.median_read_cpu_s:.2f}",
            f"{r.peak_mb:.0f}",
            f"{r.held_mb:.0f}",
            f"{r.rss_growth_mb:.0f}",
        )
    return table
