"""Units of work: one transaction on one database, with its repositories, one audit helper
and the side effects that must wait until it has committed.

    with platform.directory_unit() as uow:
        uow.plans.update(plan_id, passkey_hash=...)
        uow.audit(actor, "bcp.passkey_regenerate", tenant_id=[primary_id, bcp_id])
        uow.after_commit(lambda: invalidate_routes(platform))

The block commits when it ends and rolls back on any exception; the effects then run in
the order they were queued, or not at all after a rollback (a failed switch must not
invalidate the routing table). An effect that raises is logged, never raised: the
transaction it follows has committed, so the caller's answer is already true.

Repositories are built on first use (``cached_property``): a unit costs nothing for those a
service does not touch, which keeps hot paths (routing, authentication) as cheap as a bare
connection. A read unit (``write=False``) refuses ``audit`` and ``after_commit``: a read
that tries to write is a programming error, not a user's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection, Table

from lifeboat.domain import json_limits
from lifeboat.domain.entities import Entity
from lifeboat.domain.records import AlertEvent
from lifeboat.store.alerts import OutboxRepo, RegionStateRepo, SubscriptionRepo, SwitchAttemptRepo
from lifeboat.store.audit import AuditRepo
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.database import Database, Region
from lifeboat.store.directory import LoginIndexRepo, OperatorRepo, SessionRepo, TenantRepo
from lifeboat.store.drills import DrillRepo
from lifeboat.store.edges import EdgeRepo
from lifeboat.store.plans import PlanRepo, RunRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.switches import SwitchRepo
from lifeboat.store.tables import directory_audit, now, region_audit
from lifeboat.store.throttle import LoginFailureRepo

log = logging.getLogger("lifeboat.units")
AUDIT_BATCH = 1000  # rows per INSERT of audit_many: one statement, well under any bind limit

Effect = Callable[[], object]
U = TypeVar("U", bound="Unit")


class Unit:
    """One transaction on one database: repositories, one audit helper, effects after commit."""

    audit_table: ClassVar[Table]

    def __init__(self, conn: Connection, *, write: bool):
        self.conn = conn
        self.write = write
        self._effects: list[Effect] = []

    @cached_property
    def audit_log(self) -> AuditRepo:
        return AuditRepo(self.conn, self.audit_table)

    def audit(
        self,
        actor: str,
        action: str,
        *,
        tenant_id: int | Iterable[int] | None = None,
        entity: Entity | None = None,
        before: Any = None,
        after: Any = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Record one action, once per tenant it concerns (a switch concerns both of a plan's).
        ``entity`` names what was written; ``before``/``after`` given as entities are kept as
        the audit log keeps an entity: its public fields, never a secret or file bytes."""
        self._refuse_if_read("audit")
        ids = [tenant_id] if tenant_id is None or isinstance(tenant_id, int) else list(tenant_id)
        if entity is not None and ids == [None]:
            ids = [entity.tenant_id]
        record = {
            "actor": actor,
            "action": action,
            "before": _kept(before),
            "after": _kept(after),
            "details": details,
            "entity_type": entity.type if entity else None,
            "entity_id": entity.id if entity else None,
        }
        self.audit_log.record_many([{**record, "tenant_id": i} for i in ids])

    def audit_many(self, records: Sequence[dict[str, Any]]) -> None:
        """Many records (each a dict of ``AuditRepo.record``'s keywords), a batch per statement."""
        self._refuse_if_read("audit_many")
        for start in range(0, len(records), AUDIT_BATCH):
            self.audit_log.record_many(records[start : start + AUDIT_BATCH])

    def after_commit(self, effect: Effect) -> None:
        """Run ``effect`` once this unit has committed (never after a rollback)."""
        self._refuse_if_read("after_commit")
        self._effects.append(effect)

    def _run_effects(self) -> None:
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                effect()
            except Exception:  # committed already: the others still run, the caller still answers
                log.exception("an effect after commit failed: %r", effect)

    def _drop_effects(self) -> None:
        self._effects = []

    def _refuse_if_read(self, what: str) -> None:
        if not self.write:
            raise RuntimeError(f"{what}() in a read unit: open the unit with write=True")


def _kept(value: Any) -> Any:
    if isinstance(value, Entity):
        return json_limits.readable(value.kind.public(value.data))[0]
    return value


class DirectoryUnit(Unit):
    """A transaction on the directory: tenants, operators, sessions, logins, plans, runs, alerts."""

    audit_table = directory_audit

    @cached_property
    def tenants(self) -> TenantRepo:
        return TenantRepo(self.conn)

    @cached_property
    def operators(self) -> OperatorRepo:
        return OperatorRepo(self.conn)

    @cached_property
    def sessions(self) -> SessionRepo:
        return SessionRepo(self.conn)

    @cached_property
    def logins(self) -> LoginIndexRepo:
        return LoginIndexRepo(self.conn)

    @cached_property
    def login_failures(self) -> LoginFailureRepo:
        return LoginFailureRepo(self.conn)

    @cached_property
    def plans(self) -> PlanRepo:
        return PlanRepo(self.conn)

    @cached_property
    def runs(self) -> RunRepo:
        return RunRepo(self.conn)

    @cached_property
    def subscriptions(self) -> SubscriptionRepo:
        return SubscriptionRepo(self.conn)

    @cached_property
    def outbox(self) -> OutboxRepo:
        return OutboxRepo(self.conn)

    @cached_property
    def switch_attempts(self) -> SwitchAttemptRepo:
        return SwitchAttemptRepo(self.conn)

    @cached_property
    def switches(self) -> SwitchRepo:
        return SwitchRepo(self.conn)

    @cached_property
    def region_states(self) -> RegionStateRepo:
        return RegionStateRepo(self.conn)

    @cached_property
    def edges(self) -> EdgeRepo:
        return EdgeRepo(self.conn)

    @cached_property
    def drills(self) -> DrillRepo:
        return DrillRepo(self.conn)

    def alert(
        self, tenant_ids: list[int], event: AlertEvent, payload: dict[str, Any], *, only: int | None = None
    ) -> int:
        """Queue ``event`` for every subscriber of these tenants: an outbox row each, in this
        transaction, so an alert exists exactly when what caused it commits. Returns the rows.
        ``only`` names one subscription, which gets the event whatever it names (a test event)."""
        self._refuse_if_read("alert")
        assert isinstance(event, AlertEvent), event
        body = {"event": event, "at": now().isoformat(), **payload}
        subs = self.subscriptions.of_tenants(tenant_ids)
        wanted = [s for s in subs if s.id == only] if only is not None else [s for s in subs if event in s.events]
        rows = [(s.id, event, body) for s in wanted]
        self.outbox.add_many(rows)
        return len(rows)


class RegionUnit(Unit):
    """A transaction on one region's database: its entities, correlations and audit trail."""

    audit_table = region_audit

    def __init__(self, conn: Connection, region: Region, *, write: bool):
        super().__init__(conn, write=write)
        self.region = region

    @cached_property
    def entities(self) -> EntityRepo:
        return EntityRepo(self.conn, self.region.id_block, read_only=not self.write)

    def correlations(self, bcp_tenant_id: int) -> CorrelationRepo:
        return CorrelationRepo(self.conn, bcp_tenant_id)


@contextmanager
def directory_unit(db: Database, *, write: bool = True) -> Iterator[DirectoryUnit]:
    with _transaction(db, write=write, snapshot=False) as conn:
        unit = DirectoryUnit(conn, write=write)
        yield from _committed(unit)
    unit._run_effects()


@contextmanager
def region_unit(region: Region, *, write: bool = True, snapshot: bool = False) -> Iterator[RegionUnit]:
    with _transaction(region.db, write=write, snapshot=snapshot) as conn:
        unit = RegionUnit(conn, region, write=write)
        yield from _committed(unit)
    unit._run_effects()


def _committed(unit: U) -> Iterator[U]:
    try:
        yield unit
    except BaseException:
        unit._drop_effects()
        raise


@contextmanager
def _transaction(db: Database, *, write: bool, snapshot: bool) -> Iterator[Connection]:
    if write:
        with db.write() as conn:
            yield conn
    else:
        with db.read(snapshot=snapshot) as conn:
            yield conn
