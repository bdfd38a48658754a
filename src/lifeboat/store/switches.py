"""The switch records (SPEC §14): written by the switch, completed by the first call and login."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy import Row as SqlRow

from lifeboat.domain.records import Side, SwitchRecord
from lifeboat.ids import DIRECTORY_BLOCK
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import directory_id_counter, switches

FIRSTS = ("first_call_at", "first_login_at")


def _record(row: SqlRow[Any]) -> SwitchRecord:
    return SwitchRecord(
        row.id,
        row.plan_id,
        row.epoch,
        Side(row.to_side),
        row.to_tenant_id,
        row.from_tenant_id,
        row.actor,
        row.at,
        row.switch_ms,
        row.last_sync_at,
        row.first_call_at,
        row.first_login_at,
    )


class SwitchRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def record(
        self,
        plan_id: int,
        epoch: int,
        to_side: Side,
        to_tenant_id: int,
        from_tenant_id: int,
        actor: str,
        at: datetime,
        last_sync_at: datetime | None,
    ) -> int:
        switch_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        self.conn.execute(
            insert(switches).values(
                id=switch_id,
                plan_id=plan_id,
                epoch=epoch,
                to_side=str(to_side),
                to_tenant_id=to_tenant_id,
                from_tenant_id=from_tenant_id,
                actor=actor[:200],
                at=at,
                last_sync_at=last_sync_at,
            )
        )
        return switch_id

    def set_switch_ms(self, switch_id: int, switch_ms: float) -> None:
        self.conn.execute(update(switches).where(switches.c.id == switch_id).values(switch_ms=switch_ms))

    def set_first(self, column: str, tenant_id: int, epoch: int, at: datetime) -> bool:
        """Stamp the first call or login into ``tenant_id`` during ``epoch``, unless one is
        stamped already (the condition makes racing processes agree on the earliest writer).
        True if this call stamped it."""
        assert column in FIRSTS, column
        t = switches.c
        done = self.conn.execute(
            update(switches)
            .where(t.to_tenant_id == tenant_id, t.epoch == epoch, t[column].is_(None))
            .values({column: at})
        )
        return bool(done.rowcount)

    def page(self, plan_id: int, *, limit: int, offset: int) -> tuple[list[SwitchRecord], int]:
        """The plan's switches, newest first, and how many there are."""
        t = switches.c
        rows = self.conn.execute(
            select(switches).where(t.plan_id == plan_id).order_by(t.at.desc(), t.id.desc()).limit(limit).offset(offset)
        )
        total = self.conn.execute(select(func.count()).select_from(switches).where(t.plan_id == plan_id)).scalar_one()
        return [_record(r) for r in rows], total
