"""Sync runs as jobs (SPEC §1, §4): a scheduled occurrence is queued once however many
schedulers see it, a run is carried out by one worker at a time, and a run whose worker
died is claimed again once its lease has expired. On SQLite and PostgreSQL.

Racing schedulers and workers each get their own ``Platform`` (their own engines and
connection pools) over the same databases, as separate processes would.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import update

from lifeboat.bootstrap import Platform, build_platform
from lifeboat.domain.graph import write_groups
from lifeboat.jobs import MAX_ATTEMPTS, schedule_due, start_background, take_over_orphans, this_host, work_once
from lifeboat.store.plans import PlanRepo, RunRepo
from lifeboat.store.tables import now, sync_runs
from tests.sync_fixture import (
    API,
    Http,
    assert_bcp_mirrors_primary,
    build_primary,
    correlation_map,
    enable_sync,
    get_run,
    new_tenant,
    pair,
)

T = TypeVar("T")


@pytest.fixture
def ops(api) -> Http:
    return Http(api, api.operator())


@pytest.fixture
def platforms(settings) -> Iterator[Callable[[], Platform]]:
    """``platforms()``: another Platform over the test's databases (closed at the end)."""
    built: list[Platform] = []

    def make() -> Platform:
        built.append(build_platform(settings))
        return built[-1]

    yield make
    for platform in built:
        platform.close()


def race(*steps: Callable[[], T]) -> list[T]:
    """Run the steps in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(steps))
    results: list[Any] = [None] * len(steps)
    errors: list[BaseException] = []

    def go(i: int, step: Callable[[], T]) -> None:
        try:
            barrier.wait()
            results[i] = step()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i, s)) for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def sync_enabled(ops: Http, platform: Platform, *, run_first: bool = True) -> tuple[Any, dict[str, Any], int]:
    """A paired primary with sync on; its first run carried out unless ``run_first`` is False."""
    primary = build_primary(ops, "na1")
    bcp = new_tenant(ops, "eu1")
    pair(ops, primary.id, bcp["id"])
    first = enable_sync(ops, primary.id)
    if run_first:
        assert work_once(platform).id == first["id"]
    with platform.directory.read() as conn:
        plan_id = PlanRepo(conn).of_tenant(primary.id).id
    return primary, bcp, plan_id


def runs_of(platform: Platform, plan_id: int) -> list[Any]:
    with platform.directory.read() as conn:
        return RunRepo(conn).page(plan_id, limit=100, offset=0)[0]


def next_run_at(platform: Platform, plan_id: int):
    with platform.directory.read() as conn:
        return PlanRepo(conn).get(plan_id).next_run_at


def sync_audit(platform: Platform, tenant_id: int, run_id: int) -> list[str]:
    """The directory's audit records of that run's end, for one tenant."""
    from lifeboat.store.audit import AuditRepo
    from lifeboat.store.tables import directory_audit

    with platform.directory.read() as conn:
        rows, _ = AuditRepo(conn, directory_audit).page(tenant_id, limit=1000, offset=0)
    return [r["action"] for r in rows if (r["details"] or {}).get("run_id") == run_id and r["actor"] == "sync"]


# --------------------------------------------------------------------------- scheduling


def test_a_due_occurrence_is_queued_once_when_the_scheduler_runs_twice(platform, ops):
    _, _, plan_id = sync_enabled(ops, platform)
    due = next_run_at(platform, plan_id)

    assert schedule_due(platform, due - timedelta(seconds=1)) == []  # not due yet
    first = schedule_due(platform, due)
    second = schedule_due(platform, due + timedelta(seconds=1))

    assert [(r.trigger, r.scheduled_for) for r in first] == [("scheduled", due)]
    assert second == []
    assert [r.trigger for r in runs_of(platform, plan_id)] == ["scheduled", "enable"]
    assert next_run_at(platform, plan_id) == due + timedelta(days=1)


def test_two_schedulers_racing_queue_one_run(platform, ops, platforms):
    _, _, plan_id = sync_enabled(ops, platform)
    due = next_run_at(platform, plan_id)
    one, two = platforms(), platforms()

    results = race(lambda: schedule_due(one, due), lambda: schedule_due(two, due))

    assert sorted(len(r) for r in results) == [0, 1]
    assert [r.trigger for r in runs_of(platform, plan_id)] == ["scheduled", "enable"]
    assert next_run_at(platform, plan_id) == due + timedelta(days=1)


# ------------------------------------------------------------------------------ workers


def test_two_workers_racing_run_a_plans_job_once(platform, ops, platforms):
    primary, bcp, _plan_id = sync_enabled(ops, platform, run_first=False)
    one, two = platforms(), platforms()

    results = race(lambda: work_once(one, owner="worker-one"), lambda: work_once(two, owner="worker-two"))

    ran = [r for r in results if r is not None]
    assert len(ran) == 1, results
    run = get_run(ops, primary.id, ran[0].id)
    assert (run["status"], run["attempts"]) == ("succeeded", 1)
    assert sync_audit(platform, primary.id, run["id"]) == ["bcp.sync_succeeded"]
    assert work_once(platform) is None  # nothing left to do
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_plan_never_has_two_runs_going_at_once(platform, ops):
    _primary, _, plan_id = sync_enabled(ops, platform, run_first=False)
    with platform.directory.write() as conn:  # a scheduled run queued behind the first
        RunRepo(conn).enqueue(plan_id, trigger="scheduled", force=False, requested_by="scheduler", scheduled_for=now())
        claimed = RunRepo(conn).claim("worker-one", timedelta(seconds=60))
    assert claimed.trigger == "enable"

    assert work_once(platform, owner="worker-two") is None  # the plan is busy

    with platform.directory.read() as conn:
        assert [r.status for r in RunRepo(conn).page(plan_id, limit=10, offset=0)[0]] == ["queued", "running"]


def test_a_run_whose_lease_expired_is_claimed_again_and_finishes(platform, ops):
    primary, bcp, _plan_id = sync_enabled(ops, platform, run_first=False)
    with platform.directory.write() as conn:  # a worker claims the run, then dies
        lost = RunRepo(conn).claim("dead-worker", timedelta(seconds=60))
    assert work_once(platform) is None  # its lease still holds

    _expire_lease(platform, lost.id)
    again = work_once(platform, owner="new-worker")

    assert again is not None and again.id == lost.id
    run = get_run(ops, primary.id, lost.id)
    assert (run["status"], run["attempts"]) == ("succeeded", 2)
    assert run["started_at"] == lost.started_at.isoformat()
    with platform.directory.read() as conn:
        assert RunRepo(conn).get(lost.id).lease_owner == "new-worker"
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_run_lost_by_too_many_workers_is_given_up(platform, ops):
    primary, bcp, _plan_id = sync_enabled(ops, platform, run_first=False)
    for attempt in range(MAX_ATTEMPTS):
        with platform.directory.write() as conn:
            lost = RunRepo(conn).claim(f"dead-worker-{attempt}", timedelta(seconds=60))
        _expire_lease(platform, lost.id)

    work_once(platform)

    run = get_run(ops, primary.id, lost.id)
    assert run["status"] == "failed" and [e["code"] for e in run["errors"]] == ["worker_lost"]
    assert correlation_map(ops, primary.id) == {}
    assert ops.get(f"{API}/tenants/{bcp['id']}/skills")["total"] == 0


def test_the_lease_length_comes_from_the_settings(settings, ops, platform):
    _primary, _, plan_id = sync_enabled(ops, platform, run_first=False)
    short = build_platform(settings.model_copy(update={"job_lease_s": 2.0}))
    left: list[timedelta] = []

    def watch(step: str, n: int) -> None:  # how long the lease has to go, while the run goes on
        with platform.directory.read() as conn:
            left.append(RunRepo(conn).open_for_plan(plan_id).lease_expires_at - now())

    try:
        run = work_once(short, progress=watch)
    finally:
        short.close()

    assert run.status == "succeeded"
    assert left and all(lease <= timedelta(seconds=2) for lease in left), left


def _expire_lease(platform: Platform, run_id: int) -> None:
    with platform.directory.write() as conn:
        conn.execute(
            update(sync_runs).where(sync_runs.c.id == run_id).values(lease_expires_at=now() - timedelta(seconds=1))
        )


# ------------------------------------------------------------------ killed at every step


class Killed(BaseException):
    """Stands for the worker's death: no ``except Exception`` in the code can catch it."""


def test_a_run_killed_before_any_of_its_writes_is_resumed_to_the_same_state(platform, ops, monkeypatch):
    """The worker dies just before its 1st, 2nd, ... write to the BCP region; a new worker
    resumes the run once the lease has expired. Each time: nothing missing, nothing twice,
    every field equal, a run after it changes nothing, and the resumed run reports what a
    clean run reports (the last round, killed at no write, is that clean run)."""
    bcp_db = platform.region("eu1").db
    real_write = bcp_db.write
    killed_at = 0
    resumed_reports: dict[int, dict[str, Any]] = {}
    while True:
        primary, bcp, _ = sync_enabled(ops, platform, run_first=False)
        monkeypatch.setattr(bcp_db, "write", dying(real_write, after=killed_at))
        try:
            clean = work_once(platform, owner="doomed")
            finished = True
        except Killed:
            finished = False
        monkeypatch.setattr(bcp_db, "write", real_write)
        if finished:
            break
        [lost] = runs_of(platform, plan_id_of(platform, primary.id))
        assert lost.status == "running"
        _expire_lease(platform, lost.id)

        resumed = work_once(platform, owner="rescuer")

        assert (resumed.id, resumed.status, resumed.attempts) == (lost.id, "succeeded", 2), (killed_at, resumed.report)
        assert resumed.report["errors"] == [], killed_at
        resumed_reports[killed_at] = resumed.report
        assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
        again = ops.call("POST", f"{API}/tenants/{primary.id}/bcp/sync-runs", expect=202)
        work_once(platform)
        rerun = get_run(ops, primary.id, again["id"])
        assert {t: c for t, c in rerun["counts"].items() if any(v for k, v in c.items() if k != "unchanged")} == {}, (
            killed_at
        )
        killed_at += 1
    assert killed_at == len(write_groups())  # one write per group of types (users and teams share one)
    assert clean.status == "succeeded" and sum(c["created"] for c in clean.report["counts"].values()) > 10
    for at, report in resumed_reports.items():
        assert report["counts"] == clean.report["counts"], at
        assert (report["drift"], report["warnings"]) == (clean.report["drift"], clean.report["warnings"]), at


def dying(write: Callable[..., Any], *, after: int) -> Callable[..., Any]:
    """``write``, that kills the worker when it is called for the ``after + 1``-th time."""
    calls = 0

    def dying_write(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > after:
            raise Killed(f"killed before write {calls}")
        return write(*args, **kwargs)

    return dying_write


def plan_id_of(platform: Platform, tenant_id: int) -> int:
    with platform.directory.read() as conn:
        return PlanRepo(conn).of_tenant(tenant_id).id


# --------------------------------------------------------- a dead worker of this host


def gone_pid() -> int:
    """The id of a process that has just ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def set_owner(platform: Platform, run_id: int, owner: str) -> None:
    with platform.directory.write() as conn:
        conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(lease_owner=owner))


def test_only_a_run_whose_worker_process_on_this_host_is_gone_is_taken_over(platform, ops):
    _primary, _, plan_id = sync_enabled(ops, platform, run_first=False)
    with platform.directory.write() as conn:  # a long lease, far from over
        lost = RunRepo(conn).claim("placeholder", timedelta(hours=1))
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for owner in (
            f"{this_host()}:{alive.pid}:1",  # still running
            f"elsewhere@4026531836:{gone_pid()}:1",  # another host: its processes are not ours to judge
            "dead-worker",
        ):  # not a worker name at all
            set_owner(platform, lost.id, owner)
            assert take_over_orphans(platform) == [], owner
            assert work_once(platform, owner="new-worker") is None, owner
    finally:
        alive.kill()
        alive.wait()

    set_owner(platform, lost.id, f"{this_host()}:{gone_pid()}:1")

    assert take_over_orphans(platform) == [lost.id]
    again = work_once(platform, owner="new-worker")
    assert (again.id, again.status, again.attempts) == (lost.id, "succeeded", 2)


def test_a_worker_starting_takes_over_at_once_the_run_of_a_dead_process_of_this_host(platform, ops):
    primary, bcp, plan_id = sync_enabled(ops, platform, run_first=False)
    with platform.directory.write() as conn:
        lost = RunRepo(conn).claim(f"{this_host()}:{gone_pid()}:1", timedelta(hours=1))

    stop = start_background(platform, workers=1, scheduler=False, poll_s=0.05)
    try:
        deadline = time.monotonic() + 60
        while (run := runs_of(platform, plan_id)[0]).status == "running":
            assert time.monotonic() < deadline, "the run was not taken over"
            time.sleep(0.05)
    finally:
        stop()

    assert (run.id, run.status, run.attempts) == (lost.id, "succeeded", 2)
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)
