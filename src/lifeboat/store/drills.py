"""Drills of BCP plans, in the directory database.

At most one drill of a plan runs at a time: a partial unique index on running drills says
so to every replica at once, and ending is a conditional update (``status = 'running'``),
so a drill ends once, whoever ends it first: an administrator, a switch or the time limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy import Row as SqlRow
from sqlalchemy.exc import IntegrityError

from lifeboat.domain.records import Drill, DrillStatus
from lifeboat.ids import DIRECTORY_BLOCK
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import directory_id_counter, drills


def _drill(row: SqlRow[Any]) -> Drill:
    values = {k: row._mapping[k] for k in Drill.__dataclass_fields__}
    routes = {str(k): int(v) for k, v in dict(values["routes"]).items()}
    return Drill(**{**values, "status": DrillStatus(values["status"]), "routes": routes})


class DrillRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def start(
        self,
        plan_id: int,
        *,
        numbers: list[str],
        routes: dict[str, int],
        users: list[str],
        by: str,
        at: datetime,
        ends_at: datetime,
        readiness: dict[str, Any],
    ) -> Drill | None:
        """The new running drill, or None when the plan has one running already."""
        drill_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(drills).values(
                        id=drill_id,
                        plan_id=plan_id,
                        status=DrillStatus.RUNNING,
                        numbers=numbers,
                        routes=routes,
                        users=users,
                        started_by=by[:200],
                        started_at=at,
                        ends_at=ends_at,
                        calls_routed=0,
                        pilot_logins=0,
                        readiness=readiness,
                    )
                )
        except IntegrityError:
            return None
        return self.get(drill_id)

    def get(self, drill_id: int) -> Drill | None:
        row = self.conn.execute(select(drills).where(drills.c.id == drill_id)).first()
        return _drill(row) if row else None

    def of_plan(self, plan_id: int, *, limit: int, offset: int) -> tuple[list[Drill], int]:
        where = drills.c.plan_id == plan_id
        total = self.conn.execute(select(func.count()).select_from(drills).where(where)).scalar_one()
        rows = self.conn.execute(select(drills).where(where).order_by(drills.c.id.desc()).limit(limit).offset(offset))
        return [_drill(r) for r in rows], total

    def running(self, plan_id: int | None = None) -> list[Drill]:
        stmt = select(drills).where(drills.c.status == DrillStatus.RUNNING)
        if plan_id is not None:
            stmt = stmt.where(drills.c.plan_id == plan_id)
        return [_drill(r) for r in self.conn.execute(stmt.order_by(drills.c.id))]

    def end(self, drill_id: int, by: str, at: datetime) -> Drill | None:
        """End the drill if it still runs; the ended drill, or None if someone ended it first."""
        done = self.conn.execute(
            update(drills)
            .where(drills.c.id == drill_id, drills.c.status == DrillStatus.RUNNING)
            .values(status=DrillStatus.ENDED, ended_at=at, ended_by=by[:200])
        )
        return self.get(drill_id) if done.rowcount else None

    def overdue(self, at: datetime) -> list[Drill]:
        stmt = select(drills).where(drills.c.status == DrillStatus.RUNNING, drills.c.ends_at <= at)
        return [_drill(r) for r in self.conn.execute(stmt.order_by(drills.c.id))]

    def count_call(self, drill_id: int, at: datetime) -> None:
        self._count(drill_id, at, drills.c.calls_routed, drills.c.first_call_s)

    def count_login(self, drill_id: int, at: datetime) -> None:
        self._count(drill_id, at, drills.c.pilot_logins, drills.c.first_login_s)

    def _count(self, drill_id: int, at: datetime, counter: Any, first: Any) -> None:
        """One more, and the seconds since start if it is the first (while the drill runs)."""
        row = self.conn.execute(select(drills.c.started_at).where(drills.c.id == drill_id)).first()
        if row is None:
            return
        seconds = round(max((at - row.started_at).total_seconds(), 0.0), 3)
        self.conn.execute(
            update(drills)
            .where(drills.c.id == drill_id, drills.c.status == DrillStatus.RUNNING)
            .values({counter.key: counter + 1, first.key: case((first.is_(None), seconds), else_=first)})
        )
