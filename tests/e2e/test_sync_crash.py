"""A sync run is crash-safe and runs once (SPEC §1, §4.8): real ``lifeboat worker``
processes over a demo contact center of a few thousand entities, on SQLite and PostgreSQL.

    kill -9 a worker in the middle of the first run; a new worker started on the same
    host takes the run over at once (its lease, ten minutes here, has not nearly ended) and
    finishes it: no duplicate, no missing entity, every field equal, and the run reports
    the counts a clean run reports.

    two workers started at the same moment: the run is carried out once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lifeboat.domain.access import Principal
from lifeboat.domain.scripts import find_references, parse_script
from lifeboat.services.bcp.sync import dry_run, request_run
from lifeboat.store.audit import AuditRepo
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo, RunRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import directory_audit, region_audit
from tests.e2e.lifeboat_process import (
    Installation,
    describe,
    lifeboat_env,
    lifeboat_executable,
    run_lifeboat,
)
from tests.sync_fixture import canonical, expected_bcp_fields, store_platform

CRASH_USERS = 1500  # about 3,500 entities: users and agent settings are most of them
LEASE_S = "2"
LONG_LEASE_S = "600"  # a killed worker's run must not wait for this
TEST_OPERATOR = Principal("operator", 0, "crash-test")


@dataclass
class Demo:
    """The demo contact center of an installation, seen through its databases."""

    install: Installation
    store: Any
    primary_id: int
    bcp_id: int
    plan_id: int

    def bcp_count(self) -> int:
        region = self.store.region("eu1")
        with region.db.read() as conn:
            return EntityRepo(conn, region.id_block).count(self.bcp_id)

    def run(self, run_id: int):
        with self.store.directory.read() as conn:
            return RunRepo(conn).get(run_id)

    def open_run(self):
        with self.store.directory.read() as conn:
            return RunRepo(conn).open_for_plan(self.plan_id)


@pytest.fixture
def demo(installation: Installation) -> Iterator[Callable[[int], Demo]]:
    """``demo(users)``: ``lifeboat demo`` loaded into the test's installation: a primary,
    an empty BCP tenant, paired, sync enabled and its first run queued (no worker yet)."""
    stores = []

    def load(users: int) -> Demo:
        result = run_lifeboat("demo", "--users", str(users), *installation.flags(), timeout=600)
        assert result.returncode == 0, describe(result)
        store = store_platform(installation.data_dir, installation.config)
        stores.append(store)
        with store.directory.read() as conn:
            tenants = TenantRepo(conn)
            primary, bcp = tenants.by_name("Acme Contact Center"), tenants.by_name("Acme Contact Center BCP")
            plan = PlanRepo(conn).of_tenant(primary.id)
        return Demo(installation, store, primary.id, bcp.id, plan.id)

    yield load
    for store in stores:
        store.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Installation], subprocess.Popen]]:
    """``workers(install)``: start a ``lifeboat worker`` (stopped at the end of the test)."""
    started: list[subprocess.Popen] = []

    def start(install: Installation, lease_s: str = LEASE_S) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("ab")
        process = subprocess.Popen(
            [lifeboat_executable(), "worker", *install.flags()],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=lifeboat_env({"LIFEBOAT_JOB_LEASE_S": lease_s}),
            cwd=tmp_path,
        )
        log.close()
        process.log_path = tmp_path / f"worker-{len(started)}.log"  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def logs(*processes: subprocess.Popen) -> str:
    return "\n".join(f"--- {p.log_path}\n{p.log_path.read_text(errors='replace')[-4000:]}" for p in processes)


def wait_until_ended(demo: Demo, run_id: int, *processes: subprocess.Popen, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while (run := demo.run(run_id)).status not in ("succeeded", "failed", "held"):
        assert time.monotonic() < deadline, f"run {run_id} is still {run.status}\n{logs(*processes)}"
        time.sleep(0.1)
    return run


# ------------------------------------------------------------------------------ checks


def assert_bcp_is_complete_and_equal(demo: Demo) -> dict[tuple[str, int], int]:
    """One correlation per synced primary entity, one BCP entity per correlation, nothing
    else in BCP, and every field equal to the primary's with references translated."""
    primary_region, bcp_region = demo.store.region("na1"), demo.store.region("eu1")
    with primary_region.db.read() as conn:
        primary = EntityRepo(conn, primary_region.id_block).all_of(demo.primary_id)
    with bcp_region.db.read() as conn:
        bcp = {e.id: e for e in EntityRepo(conn, bcp_region.id_block).all_of(demo.bcp_id)}
        correlations = CorrelationRepo(conn, demo.bcp_id).all()
    in_scope = {(e.type, e.id): e for e in primary if e.type != "points-of-contact" or e.data["channel"] == "voice"}
    corr = {(c.type, c.primary_id): c.bcp_id for c in correlations}

    assert len(corr) == len(correlations), "a primary entity has two correlations"
    assert set(corr) == set(in_scope), {
        "missing": len(set(in_scope) - set(corr)),
        "extra": len(set(corr) - set(in_scope)),
    }
    assert len(set(corr.values())) == len(corr), "two correlations share a BCP entity"
    assert set(bcp) == set(corr.values()), {
        "uncorrelated BCP entities": len(set(bcp) - set(corr.values())),
        "correlations to nothing": len(set(corr.values()) - set(bcp)),
    }
    for key, source in in_scope.items():
        target = bcp[corr[key]]
        assert target.type == source.type and target.id != source.id
        assert target.content == source.content, key
        if source.type == "scripts":
            assert_script_translated(source.data, target.data, corr)
        else:
            expected = expected_bcp_fields(source.type, source.data, corr, script_refs={})
            assert canonical(target.data) == canonical(expected), key
    return corr


def assert_script_translated(source: dict[str, Any], target: dict[str, Any], corr: dict[tuple[str, int], int]) -> None:
    """The same script, each numeric id of a structured property replaced by its BCP id."""
    assert {k: v for k, v in target.items() if k != "content"} == {k: v for k, v in source.items() if k != "content"}
    expected = []
    for ref in find_references(parse_script(source["content"])):
        value = ref.value
        if ref.kind == "id" and (ref.target, int(ref.value)) in corr:
            value = str(corr[(ref.target, int(ref.value))])
        expected.append((ref.action_id, ref.property, ref.position, value))
    got = [(r.action_id, r.property, r.position, r.value) for r in find_references(parse_script(target["content"]))]
    assert got == expected, source["path"]


def region_audit_of_run(demo: Demo, run_id: int) -> list[tuple[str, int]]:
    region = demo.store.region("eu1")
    with region.db.read() as conn:
        rows, _ = AuditRepo(conn, region_audit).page(demo.bcp_id, limit=100_000, offset=0)
    return [(r["action"], r["entity_id"]) for r in rows if r["actor"] == f"sync:run {run_id}"]


def directory_audit_of_run(demo: Demo, run_id: int) -> list[tuple[int, str]]:
    with demo.store.directory.read() as conn:
        found = []
        for tenant_id in (demo.primary_id, demo.bcp_id):
            rows, _ = AuditRepo(conn, directory_audit).page(tenant_id, limit=1000, offset=0)
            found += [
                (tenant_id, r["action"])
                for r in rows
                if r["actor"] == "sync" and (r["details"] or {}).get("run_id") == run_id
            ]
    return sorted(found)


# ------------------------------------------------------------------------------- tests


def test_a_worker_killed_mid_run_leaves_no_duplicate_and_the_next_worker_finishes(demo, workers):
    center = demo(CRASH_USERS)
    run_id = center.open_run().id
    with center.store.region("na1").db.read() as conn:
        rows = EntityRepo(conn, center.store.region("na1").id_block).rows(center.primary_id)
    total = sum(1 for r in rows.values() if r.type != "points-of-contact" or r.natural_key.startswith("voice|"))
    assert total > 3000
    before = center.bcp_count()  # the BCP tenant's own business unit, adopted by the run
    clean = dry_run(center.store, TEST_OPERATOR, center.primary_id)  # what a clean run would report

    first = workers(center.install, lease_s=LONG_LEASE_S)
    deadline = time.monotonic() + 180
    while not before < (written := center.bcp_count()) < total:
        assert written < total, f"the run ended before the worker could be killed\n{logs(first)}"
        assert first.poll() is None and time.monotonic() < deadline, logs(first)
        time.sleep(0.005)
    first.kill()  # SIGKILL: no clean-up of any kind
    first.wait(timeout=20)

    lost = center.run(run_id)
    assert lost.status == "running" and lost.attempts == 1
    assert before < center.bcp_count() < total
    killed_at = time.monotonic()
    second = workers(center.install, lease_s=LONG_LEASE_S)
    run = wait_until_ended(center, run_id, second)

    assert (run.status, run.attempts) == ("succeeded", 2), (run.report or {}).get("errors")
    assert time.monotonic() - killed_at < float(LONG_LEASE_S) / 2, "taken over only when the lease ended"
    assert run.lease_owner != lost.lease_owner
    assert run.report["counts"] == clean["counts"]  # not `unchanged` for what the killed attempt wrote
    assert (run.report["drift"], run.report["warnings"]) == (clean["drift"], clean["warnings"])
    assert sum(c["created"] + c["adopted"] for c in clean["counts"].values()) == total
    corr = assert_bcp_is_complete_and_equal(center)
    assert len(corr) == total

    # Run again: the state the crashed run left behind is the state a clean run leaves.
    again = request_run(center.store, TEST_OPERATOR, center.primary_id)
    rerun = wait_until_ended(center, again.id, second)
    counts = rerun.report["counts"]
    assert rerun.status == "succeeded"
    assert {t: {k: v for k, v in c.items() if v and k != "unchanged"} for t, c in counts.items()} == {
        t: {} for t in counts
    }
    assert sum(c["unchanged"] for c in counts.values()) == total
    assert region_audit_of_run(center, again.id) == []


def test_two_workers_started_together_run_the_job_once(demo, workers):
    center = demo(200)
    run_id = center.open_run().id

    pair = [workers(center.install), workers(center.install)]
    run = wait_until_ended(center, run_id, *pair)

    assert (run.status, run.attempts) == ("succeeded", 1), logs(*pair)
    assert directory_audit_of_run(center, run_id) == sorted(
        [(center.primary_id, "bcp.sync_succeeded"), (center.bcp_id, "bcp.sync_succeeded")]
    )
    applied = region_audit_of_run(center, run_id)
    created = sum(c["created"] + c["adopted"] for c in run.report["counts"].values())
    assert len(applied) == len(set(applied)) == created  # each entity written once, by one worker
    assert_bcp_is_complete_and_equal(center)
    time.sleep(2)  # the other worker keeps polling: it must find nothing more to do
    with center.store.directory.read() as conn:
        assert RunRepo(conn).page(center.plan_id, limit=10, offset=0)[1] == 1
    assert all(p.poll() is None for p in pair), logs(*pair)
