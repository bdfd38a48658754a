"""The audit trail: who did what, when, with the before and after of each write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from lifeboat.store.tables import now


class AuditRepo:
    def __init__(self, conn: Connection, table: Table):
        self.conn = conn
        self.table = table

    def record(
        self,
        *,
        actor: str,
        action: str,
        tenant_id: int | None = None,
        entity_type: str | None = None,
        entity_id: int | None = None,
        before: Any = None,
        after: Any = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.conn.execute(
            insert(self.table).values(
                at=now(),
                tenant_id=tenant_id,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                details=details,
            )
        )

    def record_many(self, records: Sequence[dict[str, Any]]) -> None:
        """Many records in one statement; each is a dict of ``record``'s keyword arguments."""
        if not records:
            return
        stamp = now()
        blank = {
            "tenant_id": None,
            "entity_type": None,
            "entity_id": None,
            "before": None,
            "after": None,
            "details": None,
        }
        self.conn.execute(insert(self.table), [{"at": stamp, **blank, **r} for r in records])

    def page(self, tenant_id: int, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        t = self.table
        total = self.conn.execute(select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)).scalar_one()
        rows = self.conn.execute(
            select(t)
            .where(t.c.tenant_id == tenant_id)
            .order_by(t.c.at.desc(), t.c.seq.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [dict(r._mapping) for r in rows], total

    def of_actor_since(self, tenant_id: int, actor: str, since: datetime) -> list[dict[str, Any]]:
        """One actor's records of a tenant from ``since`` on, oldest first (the tenant-and-time
        index finds them; the actor is filtered among those)."""
        t = self.table
        rows = self.conn.execute(
            select(t.c.action, t.c.entity_type, t.c.entity_id, t.c.details)
            .where(t.c.tenant_id == tenant_id, t.c.at >= since, t.c.actor == actor)
            .order_by(t.c.seq)
        ).all()
        return [dict(r._mapping) for r in rows]

    def seqs_with_values(self) -> list[int]:
        """Every record that keeps an entity's fields (before or after), for checks of stored values."""
        t = self.table
        stmt = select(t.c.seq).where((t.c.before.is_not(None)) | (t.c.after.is_not(None))).order_by(t.c.seq)
        return list(self.conn.execute(stmt).scalars())

    def load(self, seqs: Sequence[int]) -> list[dict[str, Any]]:
        t = self.table
        rows = self.conn.execute(select(t).where(t.c.seq.in_(list(seqs))).order_by(t.c.seq))
        return [dict(r._mapping) for r in rows]
