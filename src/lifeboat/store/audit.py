"""The audit trail: who did what, when, with the before and after of each write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, insert, or_, select

from lifeboat.store.bulk import BulkWriter
from lifeboat.store.tables import now

RECORD_COLUMNS = ("at", "tenant_id", "actor", "action", "entity_type", "entity_id", "before", "after", "details")


@dataclass(frozen=True)
class AuditFilter:
    """Which records of a tenant to read. ``actor`` is a whole actor (``user:alice``) or its name
    (``alice``); ``action`` matches itself and the actions under it (``users`` finds
    ``users.bcp_type``); ``since`` is inclusive, ``until`` exclusive."""

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, t: Table) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor:
            found.append(or_(t.c.actor == self.actor, t.c.actor.endswith(":" + self.actor, autoescape=True)))
        if self.action:
            found.append(or_(t.c.action == self.action, t.c.action.startswith(self.action + ".", autoescape=True)))
        if self.entity_type:
            found.append(t.c.entity_type == self.entity_type)
        if self.since:
            found.append(t.c.at >= _aware(self.since))
        if self.until:
            found.append(t.c.at < _aware(self.until))
        return found


def _aware(moment: datetime) -> datetime:
    """A time without a zone is taken as UTC (a query string's ``2024-05-01`` included)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        """Many records in one driver call (``store.bulk``); each is a dict of ``record``'s keyword arguments."""
        stamp = now()
        BulkWriter(self.conn).insert(
            self.table,
            RECORD_COLUMNS,
            [
                (
                    stamp,
                    r.get("tenant_id"),
                    r["actor"],
                    r["action"],
                    r.get("entity_type"),
                    r.get("entity_id"),
                    r.get("before"),
                    r.get("after"),
                    r.get("details"),
                )
                for r in records
            ],
        )

    def page(
        self, tenant_id: int, *, limit: int, offset: int, only: AuditFilter | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        t = self.table
        where = [t.c.tenant_id == tenant_id, *(only.where(t) if only else [])]
        total = self.conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        rows = self.conn.execute(
            select(t).where(*where).order_by(t.c.at.desc(), t.c.seq.desc()).limit(limit).offset(offset)
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
