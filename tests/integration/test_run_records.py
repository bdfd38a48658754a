"""The plan and run repositories hand out enums and store the same plain strings as before
(lifeboat.store.plans with lifeboat.domain.records). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lifeboat.domain.records import FINISHED, RunStatus, Side, Trigger
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo, RunRepo
from lifeboat.store.tables import bcp_plans, sync_runs


def test_a_run_reads_back_as_enums_over_plain_strings(platform):
    with platform.directory.write() as conn:
        tenants = TenantRepo(conn)
        primary, bcp = tenants.create("records-primary", "na1"), tenants.create("records-bcp", "eu1")
        plan = PlanRepo(conn).create(primary.id, bcp.id, "not-a-hash", {})
        queued = RunRepo(conn).enqueue(plan.id, trigger=Trigger.SCHEDULED, force=False, requested_by="scheduler")
    with platform.directory.write() as conn:
        claimed = RunRepo(conn).claim("worker-1", timedelta(minutes=1))
    with platform.directory.write() as conn:
        RunRepo(conn).finish(queued.id, RunStatus.HELD, {"errors": []}, owner="worker-1")
    with platform.directory.read() as conn:
        runs = RunRepo(conn)
        plan, finished, last = PlanRepo(conn).get(plan.id), runs.get(queued.id), runs.last(plan.id, FINISHED)
        stored_run = conn.execute(
            select(sync_runs.c.status, sync_runs.c.trigger).where(sync_runs.c.id == queued.id)
        ).one()
        stored_side = conn.execute(select(bcp_plans.c.active_side).where(bcp_plans.c.id == plan.id)).scalar_one()

    assert plan.active_side is Side.PRIMARY
    assert (queued.status, queued.trigger) == (RunStatus.QUEUED, Trigger.SCHEDULED)
    assert claimed.status is RunStatus.RUNNING
    assert finished.status is RunStatus.HELD and finished.status.is_finished and finished.trigger is Trigger.SCHEDULED
    assert last == finished
    assert [type(v) for v in (*stored_run, stored_side)] == [str, str, str]
    assert (*stored_run, stored_side) == ("held", "scheduled", "primary")
