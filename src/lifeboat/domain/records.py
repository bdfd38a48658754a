"""Records that several layers share: plain values, written by the store, read by the sync,
the services and the faces. Only what more than one layer needs lives here; a record of
one layer stays beside its code.

The enums are ``StrEnum``s: a member *is* its string, so the database, the JSON and the CLI
see the same text as before there were enums; the repositories convert on read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

# --------------------------------------------------------------------------- sync values


class Row(NamedTuple):
    """Enough of an entity to decide whether its fields must be read at all. A named tuple:
    a sync reads one per entity of both tenants, and a tuple is the cheapest value to make."""

    id: int
    type: str
    natural_key: str
    version: int


class Correlation(NamedTuple):
    """Which primary entity a BCP entity copies, and the versions of both when last synced
    (a named tuple, as ``Row``)."""

    type: str
    primary_id: int
    bcp_id: int
    primary_version: int  # 0: references were still pending or unresolved when written
    bcp_version: int


class ChangeAction(StrEnum):
    """What the sync does to one BCP entity. Declared in the order a plan carries them out
    within one type: deletes first (they free natural keys), then adoptions, creates, updates,
    deactivations."""

    DELETE = "delete"
    ADOPT = "adopt"
    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"

    @property
    def past(self) -> str:
        """The word a report counts it under: created, adopted, updated, deactivated, deleted."""
        return f"{self.value}d" if self.value.endswith("e") else f"{self.value}ed"


# --------------------------------------------------------------------------- tenancy


@dataclass(frozen=True)
class Tenant:
    id: int
    name: str
    region: str
    created_at: datetime


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    password_hash: str


@dataclass(frozen=True)
class Session:
    token_hash: str
    kind: str  # "operator" or "user"
    principal_id: int
    tenant_id: int | None
    name: str
    expires_at: datetime


# --------------------------------------------------------------------------- BCP plans and runs


class Side(StrEnum):
    """The two tenants of a BCP plan: which one is active, which one a login enters."""

    PRIMARY = "primary"
    BCP = "bcp"


class RunStatus(StrEnum):
    """A sync run's life: queued -> running -> succeeded, failed or held (the last three end it)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"  # the safety threshold stopped it before any write

    @property
    def is_finished(self) -> bool:
        return self in FINISHED


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.HELD)
OPEN = (RunStatus.QUEUED, RunStatus.RUNNING)


class Trigger(StrEnum):
    """Who asked for a run: a person ("sync now"), the schedule, or enabling sync (the first run)."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    ENABLE = "enable"


@dataclass(frozen=True)
class BcpPlan:
    id: int
    primary_tenant_id: int
    bcp_tenant_id: int
    passkey_hash: str
    active_side: Side
    epoch: int
    sync_enabled: bool
    sync_settings: dict[str, Any]
    sync_enabled_at: datetime | None
    next_run_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # The open RPO alarm: when the copy became stale, if ``sync_stale`` was raised and no
    # ``sync_fresh`` has ended it yet (services.bcp.freshness). Shared by every scheduler.
    stale_since: datetime | None = None


@dataclass(frozen=True)
class SyncRun:
    id: int
    plan_id: int
    trigger: Trigger
    force: bool
    status: RunStatus
    scheduled_for: datetime | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str
    lease_owner: str | None
    lease_expires_at: datetime | None
    attempts: int
    report: dict[str, Any] | None


@dataclass(frozen=True)
class SwitchRecord:
    """One committed switch or revert and what it measured (SPEC §14). The first call and
    first login are None until a route lookup or a login into the side it made active."""

    id: int
    plan_id: int
    epoch: int
    to_side: Side
    to_tenant_id: int
    from_tenant_id: int
    actor: str
    at: datetime
    switch_ms: float | None
    last_sync_at: datetime | None
    first_call_at: datetime | None
    first_login_at: datetime | None


@dataclass(frozen=True)
class PlanStatus:
    """A BCP plan as it stands: its tenants, its last, last successful and open run, and the
    BCP access counts of each side (None where the region cannot be read). The service reads
    it, ``views.bcp.plan_view`` shapes it."""

    plan: BcpPlan
    primary: Tenant
    bcp: Tenant
    last_run: SyncRun | None
    last_success: SyncRun | None
    open_run: SyncRun | None
    primary_access: dict[str, int] | None
    bcp_access: dict[str, int] | None
    stale_since: datetime | None = None  # when the copy became stale (domain.freshness); None: fresh


# --------------------------------------------------------------------------- alerts


class AlertEvent(StrEnum):
    """What a tenant can subscribe to."""

    SYNC_FAILED = "sync_failed"
    SYNC_HELD = "sync_held"
    SYNC_STALE = "sync_stale"  # the RPO alarm: the last successful sync is older than the plan's threshold
    SYNC_FRESH = "sync_fresh"  # a successful sync ended it
    SWITCHED = "switched"
    REVERTED = "reverted"
    REGION_DOWN = "region_down"
    REGION_UP = "region_up"
    PASSKEY_LOCKED = "passkey_locked"
    TEST = "test"  # sent to one subscription when an administrator asks; never subscribed to
    DRILL_STARTED = "drill_started"
    DRILL_ENDED = "drill_ended"


@dataclass(frozen=True)
class Subscription:
    id: int
    tenant_id: int
    kind: str  # "webhook" or "email"
    target: str
    secret: str | None
    events: list[str]  # AlertEvent values
    created_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    id: int
    subscription_id: int
    event: str  # an AlertEvent value
    payload: dict[str, Any]
    attempts: int


# ------------------------------------------------------------------------------- voice edge


@dataclass(frozen=True)
class VoiceEdge:
    """A registered voice edge (SPEC §12): its RPC address and its answers by SIP code."""

    name: str
    rpc_url: str
    token_name: str
    answers: dict[str, int]
    registered_at: datetime
    last_heard_at: datetime


class DrillStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"


@dataclass(frozen=True)
class Drill:
    """A drill of a plan (SPEC §14): its test numbers route to their BCP copies and its pilot
    users log in to the BCP tenant while it runs. ``routes`` maps each test number to the id
    of its BCP copy (resolved through the correlations at start)."""

    id: int
    plan_id: int
    status: DrillStatus
    numbers: list[str]
    routes: dict[str, int]
    users: list[str]
    started_by: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    calls_routed: int
    pilot_logins: int
    first_call_s: float | None
    first_login_s: float | None
    readiness: dict[str, Any]
