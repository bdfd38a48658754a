"""The RPO alarm (SPEC §13): ``sync_stale`` once when a plan's copy gets older than its
threshold, ``sync_fresh`` once when a successful sync ends that episode.

Run by every scheduler (any number of replicas). The episode lives on the plan in the
directory (``bcp_plans.stale_since``); it is opened and closed with a conditional update in
the same transaction as the alert's outbox rows and the audit record, so however many
schedulers judge a plan at once, one of them raises each event and the others find the
episode already opened or closed. The rule itself is ``domain.freshness``.

A plan that is not judged (sync off, or paused because BCP is active) keeps its episode as
it stands: nothing was synced, so nothing recovered, and no alarm is raised meanwhile.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.freshness import judged, stale_after, stale_since
from lifeboat.domain.records import AlertEvent, BcpPlan
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

log = logging.getLogger("lifeboat.freshness")
ACTOR = "scheduler"


def check_freshness(platform: Platform, at: datetime | None = None) -> list[tuple[int, AlertEvent]]:
    """Judge every plan with sync on; returns the (plan, event) pairs this caller raised."""
    at = at or now()
    with platform.directory_unit(write=False) as uow:
        plans = [p for p in uow.plans.with_sync_enabled() if judged(p.sync_enabled, p.active_side)]
        last = uow.runs.last_success_times([p.id for p in plans])
    raised = []
    # Each one judged again in its own write transaction: a run may have ended since.
    for plan_id in [p.id for p in plans if _differs(p, last.get(p.id), at)]:
        with platform.directory_unit() as uow:
            event = _settle(uow, plan_id, at)
        if event is not None:
            log.info("plan %s: %s", plan_id, event)
            raised.append((plan_id, event))
    return raised


def _differs(plan: BcpPlan, last_success_at: datetime | None, at: datetime) -> bool:
    """Whether the copy's state now differs from the stored episode (stale vs. episode open)."""
    stale = stale_since(plan.sync_settings, plan.sync_enabled_at, last_success_at, at) is not None
    return stale != (plan.stale_since is not None)


def plan_stale_since(plan: BcpPlan, last_success_at: datetime | None, at: datetime | None = None) -> datetime | None:
    """When the plan's copy became stale, as faces show it; None while fresh or not judged."""
    if not judged(plan.sync_enabled, plan.active_side):
        return None
    return stale_since(plan.sync_settings, plan.sync_enabled_at, last_success_at, at or now())


def _settle(uow: DirectoryUnit, plan_id: int, at: datetime) -> AlertEvent | None:
    plan = uow.plans.get(plan_id)
    if plan is None or not judged(plan.sync_enabled, plan.active_side):
        return None
    last_success_at = uow.runs.last_success_times([plan_id]).get(plan_id)
    since = stale_since(plan.sync_settings, plan.sync_enabled_at, last_success_at, at)
    if since is not None and uow.plans.open_stale_episode(plan_id, since):
        _tell(uow, plan, AlertEvent.SYNC_STALE, since, last_success_at, at)
        return AlertEvent.SYNC_STALE
    if since is None and plan.stale_since is not None and uow.plans.close_stale_episode(plan_id, plan.stale_since):
        _tell(uow, plan, AlertEvent.SYNC_FRESH, plan.stale_since, last_success_at, at)
        return AlertEvent.SYNC_FRESH
    return None  # another scheduler got there first


def _tell(
    uow: DirectoryUnit,
    plan: BcpPlan,
    event: AlertEvent,
    since: datetime,
    last_success_at: datetime | None,
    at: datetime,
) -> None:
    """The alert to both tenants' subscribers and the audit record of the episode's start or end."""
    tenants = [plan.primary_tenant_id, plan.bcp_tenant_id]
    primary = uow.tenants.get(plan.primary_tenant_id)
    name = primary.name if primary else f"tenant {plan.primary_tenant_id}"
    threshold = stale_after(plan.sync_settings)
    details: dict[str, Any] = {
        "plan_id": plan.id,
        "stale_since": since.isoformat(),
        "last_success_at": last_success_at.isoformat() if last_success_at else None,
        "threshold_minutes": int(threshold.total_seconds() // 60),
    }
    if event == AlertEvent.SYNC_STALE:
        said = "never synced" if last_success_at is None else f"last synced {last_success_at.isoformat()}"
        summary = f"BCP copy of {name} is stale: {said}, threshold {details['threshold_minutes']} min"
    else:
        details["stale_for_s"] = int((at - since).total_seconds())
        summary = f"BCP copy of {name} is fresh again: synced {details['last_success_at']}"
    uow.alert(tenants, event, {**details, "summary": summary[:300]})
    uow.audit(ACTOR, f"bcp.{event}", tenant_id=tenants, details=details)
