"""BCP plans and their sync runs, in the directory database.

Runs are jobs: a worker claims one with a lease. On PostgreSQL the claim locks the run
and its plan with ``FOR UPDATE SKIP LOCKED``; on SQLite the write transaction already
starts with ``BEGIN IMMEDIATE``, which serialises claimers. Either way one plan never has
two runs going at once, and a run whose worker died is claimed again once its lease ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy import Row as SqlRow
from sqlalchemy.exc import IntegrityError

from lifeboat.domain.records import OPEN, BcpPlan, RunStatus, Side, SyncRun, Trigger
from lifeboat.ids import DIRECTORY_BLOCK, is_id
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import bcp_plans, directory_id_counter, now, sync_runs, tenants


def _plan(row: SqlRow[Any]) -> BcpPlan:
    values = {k: row._mapping[k] for k in BcpPlan.__dataclass_fields__}
    return BcpPlan(**{**values, "active_side": Side(values["active_side"])})


def _run(row: SqlRow[Any]) -> SyncRun:
    values = {k: row._mapping[k] for k in SyncRun.__dataclass_fields__}
    return SyncRun(**{**values, "trigger": Trigger(values["trigger"]), "status": RunStatus(values["status"])})


class PlanRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def create(
        self, primary_tenant_id: int, bcp_tenant_id: int, passkey_hash: str, settings: dict[str, Any]
    ) -> BcpPlan:
        plan_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        stamp = now()
        self.conn.execute(
            insert(bcp_plans).values(
                id=plan_id,
                primary_tenant_id=primary_tenant_id,
                bcp_tenant_id=bcp_tenant_id,
                passkey_hash=passkey_hash,
                active_side=Side.PRIMARY,
                epoch=0,
                sync_enabled=False,
                sync_settings=settings,
                sync_enabled_at=None,
                next_run_at=None,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        plan = self.get(plan_id)
        assert plan is not None  # inserted just above, in this transaction
        return plan

    def get(self, plan_id: int, *, lock: bool = False) -> BcpPlan | None:
        stmt = select(bcp_plans).where(bcp_plans.c.id == plan_id)
        if lock and self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return _plan(row) if row else None

    def of_tenant(self, tenant_id: int) -> BcpPlan | None:
        row = self.conn.execute(
            select(bcp_plans).where(
                or_(bcp_plans.c.primary_tenant_id == tenant_id, bcp_plans.c.bcp_tenant_id == tenant_id)
            )
        ).first()
        return _plan(row) if row else None

    def primary_tenant_ids(self) -> list[int]:
        return list(self.conn.execute(select(bcp_plans.c.primary_tenant_id).order_by(bcp_plans.c.id)).scalars())

    def update(self, plan_id: int, **values: Any) -> None:
        self.conn.execute(update(bcp_plans).where(bcp_plans.c.id == plan_id).values(updated_at=now(), **values))

    def due(self, at: datetime) -> list[BcpPlan]:
        rows = self.conn.execute(
            select(bcp_plans).where(bcp_plans.c.sync_enabled.is_(True), bcp_plans.c.next_run_at <= at)
        )
        return [_plan(r) for r in rows]

    def advance_schedule(self, plan_id: int, expected: datetime, following: datetime) -> bool:
        """Move ``next_run_at`` on, once: only the scheduler that saw ``expected`` wins."""
        result = self.conn.execute(
            update(bcp_plans)
            .where(bcp_plans.c.id == plan_id, bcp_plans.c.next_run_at == expected)
            .values(next_run_at=following)
        )
        return result.rowcount == 1

    def with_sync_enabled(self) -> list[BcpPlan]:
        rows = self.conn.execute(select(bcp_plans).where(bcp_plans.c.sync_enabled.is_(True)).order_by(bcp_plans.c.id))
        return [_plan(r) for r in rows]

    def open_stale_episode(self, plan_id: int, since: datetime) -> bool:
        """Mark the plan stale since ``since`` unless it already is: only one caller wins
        (the row lock makes a concurrent one wait, then find the episode open)."""
        result = self.conn.execute(
            update(bcp_plans)
            .where(bcp_plans.c.id == plan_id, bcp_plans.c.stale_since.is_(None))
            .values(stale_since=since)
        )
        return result.rowcount == 1

    def close_stale_episode(self, plan_id: int, since: datetime) -> bool:
        """End the episode that began at ``since``, once: only one caller wins."""
        result = self.conn.execute(
            update(bcp_plans)
            .where(bcp_plans.c.id == plan_id, bcp_plans.c.stale_since == since)
            .values(stale_since=None)
        )
        return result.rowcount == 1

    def sides(self) -> list[tuple[int, int, Side, int]]:
        """Every plan as (primary tenant, BCP tenant, active side, epoch): what routing needs."""
        rows = self.conn.execute(
            select(bcp_plans.c.primary_tenant_id, bcp_plans.c.bcp_tenant_id, bcp_plans.c.active_side, bcp_plans.c.epoch)
        )
        return [(r.primary_tenant_id, r.bcp_tenant_id, Side(r.active_side), r.epoch) for r in rows]


class RunRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def last_success_of_synced_plans(self) -> list[tuple[int, str, datetime | None, datetime | None]]:
        """Every plan whose sync is on, as (plan, primary tenant's name, sync enabled at, end
        of its last successful run or None): one query, for the RPO gauge of each scrape."""
        succeeded = (
            select(sync_runs.c.plan_id, func.max(sync_runs.c.finished_at).label("finished_at"))
            .where(sync_runs.c.status == RunStatus.SUCCEEDED)
            .group_by(sync_runs.c.plan_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(bcp_plans.c.id, tenants.c.name, bcp_plans.c.sync_enabled_at, succeeded.c.finished_at)
            .join(tenants, tenants.c.id == bcp_plans.c.primary_tenant_id)
            .outerjoin(succeeded, succeeded.c.plan_id == bcp_plans.c.id)
            .where(bcp_plans.c.sync_enabled.is_(True))
            .order_by(bcp_plans.c.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def enqueue(
        self, plan_id: int, *, trigger: Trigger, force: bool, requested_by: str, scheduled_for: datetime | None = None
    ) -> SyncRun | None:
        """A new queued run; None if that scheduled occurrence is queued already."""
        run_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(sync_runs).values(
                        id=run_id,
                        plan_id=plan_id,
                        trigger=trigger,
                        force=force,
                        status=RunStatus.QUEUED,
                        scheduled_for=scheduled_for,
                        queued_at=now(),
                        requested_by=requested_by,
                        attempts=0,
                    )
                )
        except IntegrityError:
            return None
        return self.get(run_id)

    def get(self, run_id: int) -> SyncRun | None:
        if not is_id(run_id):  # nothing outside the id space exists (nor fits a BIGINT)
            return None
        row = self.conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def open_for_plan(self, plan_id: int) -> SyncRun | None:
        """The plan's queued or running run, if any."""
        row = self.conn.execute(
            select(sync_runs)
            .where(
                sync_runs.c.plan_id == plan_id,
                sync_runs.c.status.in_(OPEN),
            )
            .order_by(sync_runs.c.id)
        ).first()
        return _run(row) if row else None

    def page(self, plan_id: int, *, limit: int, offset: int) -> tuple[list[SyncRun], int]:
        where = sync_runs.c.plan_id == plan_id
        total = self.conn.execute(select(func.count()).select_from(sync_runs).where(where)).scalar_one()
        rows = self.conn.execute(
            select(sync_runs).where(where).order_by(sync_runs.c.id.desc()).limit(limit).offset(offset)
        )
        return [_run(r) for r in rows], total

    def last(self, plan_id: int, statuses: tuple[RunStatus, ...]) -> SyncRun | None:
        row = self.conn.execute(
            select(sync_runs)
            .where(sync_runs.c.plan_id == plan_id, sync_runs.c.status.in_(statuses))
            .order_by(sync_runs.c.id.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def last_success_times(self, plan_ids: list[int]) -> dict[int, datetime]:
        """When each plan's newest successful run ended (plans without one are left out)."""
        rows = self.conn.execute(
            select(sync_runs.c.plan_id, func.max(sync_runs.c.finished_at))
            .where(sync_runs.c.plan_id.in_(plan_ids), sync_runs.c.status == RunStatus.SUCCEEDED)
            .group_by(sync_runs.c.plan_id)
        )
        return {plan_id: at for plan_id, at in rows if at is not None}

    def claim(self, owner: str, lease: timedelta) -> SyncRun | None:
        """Take the oldest runnable run whose plan has no other run going."""
        stamp = now()
        runnable = or_(
            sync_runs.c.status == RunStatus.QUEUED,
            and_(sync_runs.c.status == RunStatus.RUNNING, sync_runs.c.lease_expires_at < stamp),
        )
        busy = select(sync_runs.c.plan_id).where(
            sync_runs.c.status == RunStatus.RUNNING, sync_runs.c.lease_expires_at >= stamp
        )
        stmt = (
            select(sync_runs)
            .where(runnable, sync_runs.c.plan_id.not_in(busy))
            .order_by(sync_runs.c.queued_at, sync_runs.c.id)
        )
        postgres = self.conn.dialect.name == "postgresql"
        candidates = stmt.limit(20).with_for_update(skip_locked=True) if postgres else stmt.limit(20)
        for row in self.conn.execute(candidates).all():
            if postgres and not self._lock_plan(row.plan_id):
                continue  # another worker is claiming a run of this plan right now
            if self.conn.execute(busy.where(sync_runs.c.plan_id == row.plan_id)).first():
                continue
            self.conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == row.id)
                .values(
                    status=RunStatus.RUNNING,
                    lease_owner=owner,
                    lease_expires_at=stamp + lease,
                    started_at=row.started_at or stamp,
                    attempts=row.attempts + 1,
                )
            )
            return self.get(row.id)
        return None

    def _lock_plan(self, plan_id: int) -> bool:
        stmt = select(bcp_plans.c.id).where(bcp_plans.c.id == plan_id).with_for_update(skip_locked=True)
        return self.conn.execute(stmt).first() is not None

    def running(self) -> list[SyncRun]:
        running = sync_runs.c.status == RunStatus.RUNNING
        rows = self.conn.execute(select(sync_runs).where(running).order_by(sync_runs.c.id))
        return [_run(r) for r in rows]

    def release(self, run_id: int, owner: str) -> bool:
        """End the lease now (if ``owner`` still holds it), so the next claim takes the run."""
        result = self.conn.execute(
            update(sync_runs)
            .where(
                sync_runs.c.id == run_id,
                sync_runs.c.lease_owner == owner,
                sync_runs.c.status == RunStatus.RUNNING,
            )
            .values(lease_expires_at=now() - timedelta(seconds=1))
        )
        return result.rowcount == 1

    def extend_lease(self, run_id: int, owner: str, lease: timedelta) -> bool:
        result = self.conn.execute(
            update(sync_runs)
            .where(
                sync_runs.c.id == run_id,
                sync_runs.c.lease_owner == owner,
                sync_runs.c.status == RunStatus.RUNNING,
            )
            .values(lease_expires_at=now() + lease)
        )
        return result.rowcount == 1

    def finish(self, run_id: int, status: RunStatus, report: dict[str, Any], *, owner: str | None = None) -> bool:
        where = [sync_runs.c.id == run_id]
        if owner is not None:
            where.append(sync_runs.c.lease_owner == owner)
        result = self.conn.execute(
            update(sync_runs)
            .where(*where)
            .values(status=status, report=report, finished_at=now(), lease_expires_at=None)
        )
        return result.rowcount == 1
