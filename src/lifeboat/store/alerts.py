"""Alert subscriptions, the outbox of alerts to deliver, switch attempts and region states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy import Row as SqlRow

from lifeboat.domain.records import OutboxItem, Subscription
from lifeboat.ids import DIRECTORY_BLOCK, is_id
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import (
    alert_outbox,
    alert_subscriptions,
    directory_id_counter,
    now,
    region_states,
    switch_attempts,
)


def _subscription(row: SqlRow[Any]) -> Subscription:
    return Subscription(row.id, row.tenant_id, row.kind, row.target, row.secret, row.events, row.created_at)


class SubscriptionRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def create(self, tenant_id: int, kind: str, target: str, secret: str | None, events: list[str]) -> Subscription:
        sub_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        self.conn.execute(
            insert(alert_subscriptions).values(
                id=sub_id, tenant_id=tenant_id, kind=kind, target=target, secret=secret, events=events, created_at=now()
            )
        )
        sub = self.get(sub_id)
        assert sub is not None  # inserted just above, in this transaction
        return sub

    def get(self, sub_id: int) -> Subscription | None:
        if not is_id(sub_id):
            return None
        row = self.conn.execute(select(alert_subscriptions).where(alert_subscriptions.c.id == sub_id)).first()
        return _subscription(row) if row else None

    def of_tenants(self, tenant_ids: list[int]) -> list[Subscription]:
        rows = self.conn.execute(
            select(alert_subscriptions)
            .where(alert_subscriptions.c.tenant_id.in_(tenant_ids))
            .order_by(alert_subscriptions.c.id)
        )
        return [_subscription(r) for r in rows]

    def delete(self, sub_id: int) -> None:
        self.conn.execute(delete(alert_subscriptions).where(alert_subscriptions.c.id == sub_id))


class OutboxRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_many(self, rows: Sequence[tuple[int, str, dict[str, Any]]]) -> None:
        if rows:
            stamp = now()
            self.conn.execute(
                insert(alert_outbox),
                [
                    {
                        "subscription_id": s,
                        "event": e,
                        "payload": p,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": stamp,
                        "created_at": stamp,
                    }
                    for s, e, p in rows
                ],
            )

    def due(self, limit: int = 50) -> list[OutboxItem]:
        t = alert_outbox.c
        stmt = select(alert_outbox).where(t.status == "pending", t.next_attempt_at <= now()).order_by(t.id).limit(limit)
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [OutboxItem(r.id, r.subscription_id, r.event, r.payload, r.attempts) for r in self.conn.execute(stmt)]

    def postpone(self, item_id: int, until: datetime) -> None:
        """Hold an item while one sender works on it (a lease, so a crash only delays it)."""
        self.conn.execute(update(alert_outbox).where(alert_outbox.c.id == item_id).values(next_attempt_at=until))

    def delivered(self, item_id: int) -> None:
        self.conn.execute(
            update(alert_outbox)
            .where(alert_outbox.c.id == item_id)
            .values(status="delivered", delivered_at=now(), attempts=alert_outbox.c.attempts + 1, last_error=None)
        )

    def failed_attempt(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        values = {"attempts": alert_outbox.c.attempts + 1, "last_error": error[:2000]}
        values.update({"next_attempt_at": retry_at} if retry_at else {"status": "failed"})
        self.conn.execute(update(alert_outbox).where(alert_outbox.c.id == item_id).values(**values))

    def of_subscription(self, sub_id: int, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(alert_outbox)
            .where(alert_outbox.c.subscription_id == sub_id)
            .order_by(alert_outbox.c.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]


class SwitchAttemptRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def record(self, plan_id: int, actor: str, to_side: str, outcome: str) -> None:
        self.conn.execute(
            insert(switch_attempts).values(
                plan_id=plan_id, at=now(), actor=actor[:200], to_side=str(to_side)[:10], outcome=outcome
            )
        )

    def last_switched(self, plan_id: int) -> tuple[datetime, str] | None:
        """When the plan's active side last changed, and by whom (the plan-and-time index finds it)."""
        t = switch_attempts.c
        row = self.conn.execute(
            select(t.at, t.actor)
            .where(t.plan_id == plan_id, t.outcome == "switched")
            .order_by(t.at.desc(), t.seq.desc())
            .limit(1)
        ).first()
        return (row.at, row.actor) if row else None

    def last_switched_to(self, plan_id: int, to_side: str) -> datetime | None:
        """When the plan last switched to ``to_side`` (None: never)."""
        t = switch_attempts.c
        return self.conn.execute(
            select(func.max(t.at)).where(t.plan_id == plan_id, t.outcome == "switched", t.to_side == to_side)
        ).scalar_one_or_none()

    def failed_since(self, plan_id: int, since: datetime, outcomes: tuple[str, ...]) -> list[datetime]:
        t = switch_attempts.c
        return list(
            self.conn.execute(
                select(t.at).where(t.plan_id == plan_id, t.outcome.in_(outcomes), t.at >= since)
            ).scalars()
        )


class RegionStateRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def all(self) -> dict[str, str]:
        return {r.region: r.status for r in self.conn.execute(select(region_states))}

    def set(self, region: str, status: str) -> None:
        t = region_states.c
        changed = self.conn.execute(
            update(region_states).where(t.region == region).values(status=status, changed_at=now())
        )
        if changed.rowcount == 0:
            self.conn.execute(insert(region_states).values(region=region, status=status, changed_at=now()))


def count_pending(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(alert_outbox).where(alert_outbox.c.status == "pending")
    ).scalar_one()
