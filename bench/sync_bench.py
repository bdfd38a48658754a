"""Sync benchmark (issues 3 and 13, "Show"): the one-way sync of the profile L tenant.

    .venv/bin/python bench/sync_bench.py                       # profile L, SQLite and PostgreSQL
    .venv/bin/python bench/sync_bench.py --users 1000 --no-postgres

For each backend (SQLite always; PostgreSQL as in ``bench/foundation.py``: the server named
by ``LIFEBOAT_BENCH_POSTGRES_URL``, else a throwaway local one when its binaries are there)
it loads the profile into a primary tenant in na1 with the demo's loader, pairs it with an
empty BCP tenant in eu1 (``services.bcp.pairing.create_plan``) and measures the real path -- the
services a user calls, and ``jobs.work_once`` as a worker runs it:

- raw driver copy: the rows the first sync writes (the BCP tenant's entities and its
  correlations) copied with the database driver itself, no SQLAlchemy, into an empty database
  of the same schema: ``sqlite3`` ``executemany``; on PostgreSQL ``COPY`` through psycopg. The
  physical floor of the first sync's writes; "× raw" is the figure issue 13 moves;
- baseline: the rows the sync copies (the tenant minus its digital points of contact) read
  from the primary database and written into an empty region database with one SQLAlchemy
  Core ``insert(entities)`` executemany in one transaction: no logic at all;
- dry run of the first sync (``services.bcp.sync.dry_run``, before sync is enabled);
- first sync: ``update_settings(enabled)`` queues it, ``work_once`` carries it out;
- re-sync with no change: "sync now" (``request_run``), then ``work_once``; it compares only
  what moved since the last run. Also the daily scheduled run (``schedule_due`` at its
  time), which compares every entity field by field;
- 1% changed: about 1% of the synced entities of every type edited with
  ``services.entities.crud.update_entity`` (versions move), then the dry run, then sync now;
- memory: the process's RSS high-water mark during each step (reset through
  ``/proc/self/clear_refs`` before it, read with ``resource.getrusage`` after it), and the
  ``tracemalloc`` peak of Python allocations during each step, measured in a second,
  identical pass on fresh databases because tracing slows Python down.

Wall clock and this process's CPU time are both shown (other programs sharing the machine
stretch the first, hardly the second; on PostgreSQL the server's own work is not in it).
Figures are printed, never asserted; the targets of issue 13 are said to be met or not.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import os
import platform as host
import resource
import sqlite3
import statistics
import sys
import tempfile
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, or_, select

from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import RegionSettings, Settings
from lifeboat.demo.center import load_contact_center
from lifeboat.demo.profile import PROFILE_L, Profile, scaled
from lifeboat.domain.access import Principal
from lifeboat.jobs import schedule_due, work_once
from lifeboat.migrations import migrate
from lifeboat.services.bcp.pairing import create_plan, update_settings
from lifeboat.services.bcp.sync import dry_run, request_run
from lifeboat.services.entities.crud import update_entity
from lifeboat.services.tenancy.tenants import create_tenant
from lifeboat.store.database import SQLITE_PRAGMAS, Database, Region, build_engine
from lifeboat.store.plans import SyncRun
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import entities, now

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL_ENV = "LIFEBOAT_BENCH_POSTGRES_URL"
MB = 1024 * 1024
OPERATOR = Principal("operator", 0, "bench")
# Issue 13's targets: the first sync within 4× the raw driver copy on SQLite (5× on PostgreSQL).
FIRST_SYNC_TARGET_S, FIRST_SYNC_TARGET_RAW = 3.0, {"SQLite": 4.0, "PostgreSQL": 5.0}
NO_CHANGE_TARGET_S, ONE_PERCENT_TARGET_S, MEMORY_TARGET_MB = 0.5, 1.0, 400.0
STEPS = (
    "raw driver copy",
    "baseline copy",
    "dry run, first sync",
    "first sync",
    "re-sync, no change",
    "re-sync, no change, full compare",
    "dry run, 1% changed",
    "re-sync, 1% changed",
)


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float | None = None  # None: the peak could not be reset on this system
    traced_mb: float | None = None


Measure = Callable[[Callable[[], Any]], tuple[Sample, Any]]


def timed(fn: Callable[[], Any]) -> tuple[Sample, Any]:
    """Wall clock, CPU time and the RSS high-water mark of this process during ``fn``."""
    gc.collect()
    reset = _reset_rss_peak()
    rss_start = _rss_mb()
    wall, cpu = perf_counter(), process_time()
    result = fn()
    wall, cpu = perf_counter() - wall, process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if reset else None  # KiB on Linux
    return Sample(wall, cpu, rss_start, peak), result


def traced(fn: Callable[[], Any]) -> tuple[Sample, Any]:
    """The tracemalloc peak of Python allocations during ``fn`` (slow: not timed)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Sample(traced_mb=peak / MB), result


def _reset_rss_peak() -> bool:
    """Linux resets the peak resident set size (VmHWM, ru_maxrss) on "5" in clear_refs."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


# ---------------------------------------------------------------------------- the runs


@dataclass
class Pair:
    platform: Platform
    primary_id: int
    bcp_id: int


def build_pair(settings: Settings, profile: Profile, console: Console) -> Pair:
    platform = build_platform(settings)
    migrate_platform(platform)
    primary = create_tenant(platform, OPERATOR, "Bench primary", "na1")
    bcp = create_tenant(platform, OPERATOR, "Bench BCP", "eu1")
    started = perf_counter()
    load_contact_center(platform, OPERATOR, primary.id, profile)
    console.print(f"  loaded the primary tenant in {perf_counter() - started:.1f} s")
    create_plan(platform, OPERATOR, primary.id, bcp.id)
    return Pair(platform, primary.id, bcp.id)


def scenario(pair: Pair, measure: Measure, *, repeats: int, console: Console) -> dict[str, list[Sample]]:
    """Every sync step of the benchmark, each measured by ``measure``."""
    samples: dict[str, list[Sample]] = defaultdict(list)
    platform, bcp_id = pair.platform, pair.bcp_id

    def step(name: str, fn: Callable[[], Any]) -> Any:
        sample, result = measure(fn)
        samples[name].append(sample)
        return result

    def sync(name: str, expect_written: int | None) -> None:
        run = step(name, lambda: work_once(platform))
        written = _check(run, name, expect_written)
        console.print(f"  {name}: {written:,} entities written")

    step("dry run, first sync", lambda: dry_run(platform, OPERATOR, bcp_id))
    update_settings(platform, OPERATOR, bcp_id, {"enabled": True})
    sync("first sync", None)
    for _ in range(repeats):
        request_run(platform, OPERATOR, bcp_id)
        sync("re-sync, no change", 0)
    schedule_due(platform, at=now() + timedelta(days=1, minutes=1))  # the daily run's occurrence
    sync("re-sync, no change, full compare", 0)
    for round_ in range(repeats):
        changed = change_one_percent(platform, pair.primary_id, round_)
        step("dry run, 1% changed", lambda: dry_run(platform, OPERATOR, bcp_id))
        request_run(platform, OPERATOR, bcp_id)
        sync("re-sync, 1% changed", changed)
    return samples


def _check(run: SyncRun | None, name: str, expect_written: int | None) -> int:
    """The number of entities the run wrote; a failed run or a surprise stops the benchmark."""
    if run is None or run.status != "succeeded" or run.report.get("errors"):
        raise RuntimeError(f"{name}: the run did not succeed: {run}")
    counts = run.report["counts"].values()
    written = sum(c[k] for c in counts for k in ("created", "updated", "adopted", "deactivated", "deleted"))
    if expect_written is not None and written != expect_written:
        raise RuntimeError(f"{name}: {written} entities written, expected {expect_written}: {run.report['counts']}")
    return written


# One edit a user would make on each type, for round r (each round edits other entities).
EDITS: dict[str, Callable[[dict[str, Any], int], dict[str, Any]]] = {
    "hours-of-operation": lambda d, r: {"time_zone": "Europe/Dublin" if d["time_zone"] != "Europe/Dublin" else "UTC"},
    "dispositions": lambda d, r: {"classification": "neutral" if d["classification"] != "neutral" else "positive"},
    "skills": lambda d, r: {"name": f"{d['name']} (r{r})"},
    "roles": lambda d, r: {"permissions": sorted(set(d["permissions"]) ^ {"studio.view"})},
    "teams": lambda d, r: {"name": f"{d['name']} (r{r})"},
    "users": lambda d, r: {"last_name": f"{d['last_name']}-{r}"},
    "agent-settings": lambda d, r: {"refusal_timeout_s": d["refusal_timeout_s"] % 60 + 1 + r},
    "points-of-contact": lambda d, r: {"name": f"{d['name']} (r{r})"},
    "files": lambda d, r: {"content": base64.b64encode(os.urandom(d["size"])).decode()},
    "scripts": lambda d, r: {
        "content": {**d["content"], "header": {**d["content"]["header"], "description": f"edit {r}"}}
    },
}


def change_one_percent(platform: Platform, tenant_id: int, round_: int) -> int:
    """Edit ~1% of the synced entities of every type through the service; returns how many."""
    region = platform.region("na1")
    with region.db.read() as conn:
        found = EntityRepo(conn, region.id_block).all_of(tenant_id, list(EDITS), with_content=False)
    by_type: dict[str, list] = defaultdict(list)
    for entity in found:
        if entity.type != "points-of-contact" or entity.data["channel"] == "voice":
            by_type[entity.type].append(entity)
    changed = 0
    for type_name, group in by_type.items():
        count = max(1, round(len(group) / 100))
        for entity in group[round_ * count : (round_ + 1) * count]:
            update_entity(platform, OPERATOR, tenant_id, type_name, entity.id, EDITS[type_name](entity.data, round_))
            changed += 1
    return changed


def baseline_copy(source: Region, tenant_id: int, target_url: str) -> tuple[Sample, int]:
    """Copy the rows the sync copies into an empty database: bulk inserts, no logic."""
    target = Database("baseline", build_engine(target_url))
    migrate(target, "region")
    synced = or_(entities.c.type != "points-of-contact", entities.c.natural_key.like("voice|%"))

    def copy() -> int:
        with source.db.read() as src:
            query = select(entities).where(entities.c.tenant_id == tenant_id, synced)
            rows = [dict(r._mapping) for r in src.execute(query)]
        with target.write() as dst:
            dst.execute(insert(entities), rows)
        return len(rows)

    try:
        return timed(copy)
    finally:
        target.dispose()


def raw_driver_copy(source: Region, tenant_id: int, target_url: str) -> tuple[Sample, int]:
    """Copy the BCP tenant's entities and correlations (what the first sync wrote) with the driver
    itself into an empty database of the same schema: read, then ``executemany`` or ``COPY``."""
    target = Database("raw", build_engine(target_url))
    migrate(target, "region")
    target.dispose()
    copy = _raw_copy_postgres if target_url.startswith("postgresql") else _raw_copy_sqlite
    return timed(lambda: copy(str(source.db.engine.url.render_as_string(hide_password=False)), target_url, tenant_id))


RAW_TABLES = {"entities": "tenant_id", "correlations": "bcp_tenant_id"}


def _raw_copy_sqlite(source_url: str, target_url: str, tenant_id: int) -> int:
    src = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(target_url.removeprefix("sqlite:///"))
    for pragma in SQLITE_PRAGMAS:  # the settings of a region database
        dst.execute(pragma)
    copied = 0
    try:
        with dst:  # one transaction
            for table, tenant_column in RAW_TABLES.items():
                cursor = src.execute(f"SELECT * FROM {table} WHERE {tenant_column} = ?", (tenant_id,))
                columns = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                marks = ", ".join("?" for _ in columns)
                dst.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
                copied += len(rows)
    finally:
        src.close()
        dst.close()
    return copied


def _raw_copy_postgres(source_url: str, target_url: str, tenant_id: int) -> int:
    import psycopg  # only the PostgreSQL half of the benchmark needs it

    def plain(url: str) -> str:
        return url.replace("postgresql+psycopg://", "postgresql://")

    copied = 0
    with psycopg.connect(plain(source_url)) as src, psycopg.connect(plain(target_url)) as dst:
        for table, tenant_column in RAW_TABLES.items():
            columns = [r[0] for r in src.execute(f"SELECT * FROM {table} LIMIT 0").description or []]
            names = ", ".join(columns)
            query = f"COPY (SELECT {names} FROM {table} WHERE {tenant_column} = {int(tenant_id)}) TO STDOUT"
            with src.cursor().copy(query) as out, dst.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as into:
                for block in out:
                    into.write(block)
                    copied += bytes(block).count(b"\n")
    return copied


# ---------------------------------------------------------------------------- backends


class Backend:
    """Fresh databases on one backend: SQLite files under ``root``, or databases on a server."""

    def __init__(self, name: str, root: Path, server: Any = None):
        self.name, self.root, self.server = name, root, server
        self.created: list[str] = []
        root.mkdir(parents=True, exist_ok=True)

    def url(self, database: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.root / database}.db"
        self.created.append(f"lbsync_{database}")
        return self.server.create_database(f"lbsync_{database}")

    def settings(self, tag: str) -> Settings:
        """A directory and the regions na1 and eu1, all new."""
        regions = [
            RegionSettings(
                name=name,
                voice_cluster=f"sip:{name}.voice.lifeboat.test",
                id_block=block,
                database_url=self.url(f"{tag}_{name}"),
            )
            for block, name in ((1, "na1"), (2, "eu1"))
        ]
        return Settings(data_dir=self.root, directory_url=self.url(f"{tag}_directory"), regions=regions)

    def drop_all(self) -> None:
        for name in self.created:
            with contextlib.suppress(Exception):
                self.server.drop_database(name)


@contextlib.contextmanager
def postgres_backend(root: Path, console: Console) -> Iterator[Backend | None]:
    """A backend on the server named by LIFEBOAT_BENCH_POSTGRES_URL or a throwaway one; None if neither."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import foundation  # the same server as the foundation benchmark

    with foundation.postgres_server(console) as server:
        if server is None:
            yield None
            return
        backend = Backend("postgresql", root, server)
        try:
            yield backend
        finally:
            backend.drop_all()


def measure_backend(
    backend: Backend, profile: Profile, *, repeats: int, trace: bool, console: Console
) -> dict[str, list[Sample]]:
    console.print(f"{backend.name}: timed pass")
    pair = build_pair(backend.settings("timed"), profile, console)
    try:
        sample, rows = baseline_copy(pair.platform.region("na1"), pair.primary_id, backend.url("baseline"))
        console.print(f"  baseline: {rows:,} rows copied")
        samples = scenario(pair, timed, repeats=repeats, console=console)
        samples["baseline copy"] = [sample]
        raw, rows = raw_driver_copy(pair.platform.region("eu1"), pair.bcp_id, backend.url("raw"))
        console.print(f"  raw driver copy: {rows:,} rows copied (entities and correlations)")
        samples["raw driver copy"] = [raw]
    finally:
        pair.platform.close()
    if trace:
        console.print(f"{backend.name}: tracemalloc pass (not timed)")
        pair = build_pair(backend.settings("traced"), profile, console)
        try:
            for name, found in scenario(pair, traced, repeats=1, console=console).items():
                samples[name][0].traced_mb = max(s.traced_mb for s in found)
        finally:
            pair.platform.close()
    return samples


# ---------------------------------------------------------------------------- printing


def figures_table(backend: str, samples: dict[str, list[Sample]]) -> Table:
    table = Table(
        "step",
        "wall s",
        "wall s, each run",
        "CPU s",
        "× raw",
        "× baseline",
        "× baseline CPU",
        "RSS start MB",
        "RSS peak MB",
        "traced peak MB",
        title=f"sync of the profile tenant on {backend}",
        caption="wall s, CPU s: median of the runs; CPU s: this process (the worker), not a database "
        "server's; RSS start: resident set of the process as the step began (what earlier steps "
        "left); RSS peak: its high-water mark during the step (getrusage ru_maxrss after a reset "
        "of the peak); traced peak: tracemalloc peak of Python allocations during the step, in a "
        "second pass",
    )
    base_wall, base_cpu = _median(samples["baseline copy"], "wall_s"), _median(samples["baseline copy"], "cpu_s")
    raw_wall = _median(samples["raw driver copy"], "wall_s")
    for name in STEPS:
        found = samples.get(name, [])
        if not found:
            continue
        wall, cpu = _median(found, "wall_s"), _median(found, "cpu_s")
        peaks = [s.rss_peak_mb for s in found if s.rss_peak_mb is not None]
        traced_mb = found[0].traced_mb
        table.add_row(
            name,
            f"{wall:.2f}",
            " ".join(f"{s.wall_s:.2f}" for s in found),
            f"{cpu:.2f}",
            f"{wall / raw_wall:.1f}",
            f"{wall / base_wall:.1f}",
            f"{cpu / base_cpu:.1f}",
            f"{max(s.rss_start_mb for s in found):.0f}",
            f"{max(peaks):.0f}" if peaks else "n/a",
            f"{traced_mb:.0f}" if traced_mb is not None else "-",
        )
    return table


def verdicts(backend: str, samples: dict[str, list[Sample]]) -> list[str]:
    def figure(name: str) -> tuple[float, str]:
        wall, cpu = _median(samples[name], "wall_s"), _median(samples[name], "cpu_s")
        return wall, f"{wall:.2f} s wall clock, {cpu:.2f} s CPU"

    first, first_text = figure("first sync")
    raw_ratio = first / _median(samples["raw driver copy"], "wall_s")
    core_ratio = first / _median(samples["baseline copy"], "wall_s")
    no_change, no_change_text = figure("re-sync, no change")
    one_percent, one_percent_text = figure("re-sync, 1% changed")
    copies = ("baseline copy", "raw driver copy")
    syncing = [s for name, found in samples.items() if name not in copies for s in found]
    rss = max((s.rss_peak_mb for s in syncing if s.rss_peak_mb is not None), default=float("nan"))
    traced_mb = max((s.traced_mb for s in syncing if s.traced_mb is not None), default=float("nan"))
    raw_target = FIRST_SYNC_TARGET_RAW[backend]
    checks = [
        (
            f"first sync within {raw_target:.0f}× the raw driver copy",
            raw_ratio <= raw_target,
            f"{raw_ratio:.1f}× the raw copy, {core_ratio:.1f}× the Core baseline",
        ),
        (f"first sync under {FIRST_SYNC_TARGET_S:.0f} s", first < FIRST_SYNC_TARGET_S, first_text),
        (f"re-sync with no change under {NO_CHANGE_TARGET_S} s", no_change < NO_CHANGE_TARGET_S, no_change_text),
        (
            f"re-sync after 1% changed under {ONE_PERCENT_TARGET_S:.0f} s",
            one_percent < ONE_PERCENT_TARGET_S,
            one_percent_text,
        ),
        (
            f"peak memory under {MEMORY_TARGET_MB:.0f} MB",
            max(rss, traced_mb) < MEMORY_TARGET_MB,
            f"RSS high-water {rss:.0f} MB, tracemalloc peak {traced_mb:.0f} MB",
        ),
    ]
    return [f"target, {what} on {backend}: {'met' if ok else 'NOT met'} ({text})" for what, ok, text in checks]


def _median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(s, attribute) for s in samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--users",
        type=int,
        default=PROFILE_L.users,
        help="employees in the tenant; the rest scales with them (default: profile L)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--repeats", type=int, default=3, help="re-syncs of each kind to take the median of")
    parser.add_argument("--no-trace", action="store_true", help="skip the second, tracemalloc pass")
    args = parser.parse_args(argv)
    profile = scaled(args.users)
    console = Console(width=160)
    console.print(f"profile: {profile}")
    console.print(
        f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"Python {host.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="lifeboat-sync-bench-") as tmp:
        options = {"repeats": args.repeats, "trace": not args.no_trace, "console": console}
        results["SQLite"] = measure_backend(Backend("sqlite", Path(tmp) / "sqlite"), profile, **options)
        if not args.no_postgres:
            with postgres_backend(Path(tmp) / "pg", console) as backend:
                if backend is not None:
                    results["PostgreSQL"] = measure_backend(backend, profile, **options)
    for name, samples in results.items():
        console.print(figures_table(name, samples))
    for name, samples in results.items():
        for line in verdicts(name, samples):
            console.print(line)
    console.print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
