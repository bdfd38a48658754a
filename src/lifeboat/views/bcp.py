"""A BCP plan, its sync settings and its sync runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifeboat.domain.records import BcpPlan, Drill, PlanStatus, Side, SwitchRecord, SyncRun, Tenant
from lifeboat.domain.sync_settings import shown_settings


def plan_view(status: PlanStatus) -> dict[str, Any]:
    """The plan as ``GET /bcp`` answers it and ``lifeboat sync status`` prints it."""
    plan, primary, bcp = status.plan, status.primary, status.bcp
    on_primary = plan.active_side == Side.PRIMARY
    last_ok = status.last_success
    return {
        "id": plan.id,
        "primary": _side(primary),
        "bcp": _side(bcp),
        "active_side": plan.active_side,
        "active_tenant_id": primary.id if on_primary else bcp.id,
        "epoch": plan.epoch,
        "sync_settings": settings_view(plan),
        "sync_paused": plan.active_side == Side.BCP,
        "last_run": run_view(status.last_run) if status.last_run else None,
        "last_successful_run_at": last_ok.finished_at.isoformat() if last_ok and last_ok.finished_at else None,
        "stale": status.stale_since is not None,  # the RPO alarm's rule (domain.freshness), judged now
        "stale_since": status.stale_since.isoformat() if status.stale_since else None,
        "open_run": run_view(status.open_run) if status.open_run else None,
        "next_run_at": plan.next_run_at.isoformat() if plan.next_run_at and on_primary else None,
        "created_at": plan.created_at.isoformat(),
        "bcp_access": {"primary": status.primary_access, "bcp": status.bcp_access},
    }


def _side(tenant: Tenant) -> dict[str, Any]:
    return {"tenant_id": tenant.id, "name": tenant.name, "region": tenant.region}


def settings_view(plan: BcpPlan) -> dict[str, Any]:
    """Sync on or off, the settings, and when sync was turned on."""
    return shown_settings(plan)


def run_view(run: SyncRun) -> dict[str, Any]:
    """A run with its report's counts, drift, warnings and errors (empty until it ends)."""
    report = run.report or {}
    return {
        "id": run.id,
        "trigger": run.trigger,
        "force": run.force,
        "status": run.status,
        "queued_at": run.queued_at.isoformat(),
        "requested_by": run.requested_by,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "attempts": run.attempts,
        "duration_s": report.get("duration_s"),
        "counts": report.get("counts", {}),
        "drift": report.get("drift", []),
        "warnings": report.get("warnings", []),
        "errors": report.get("errors", []),
        "full_compare": report.get("full_compare"),
    }


def drill_view(drill: Drill) -> dict[str, Any]:
    """A drill as SPEC §14 shapes it, with who started it."""
    return {
        "id": drill.id,
        "status": drill.status,
        "numbers": drill.numbers,
        "users": drill.users,
        "started_by": drill.started_by,
        "started_at": drill.started_at.isoformat(),
        "ends_at": drill.ends_at.isoformat(),
        "ended_at": drill.ended_at.isoformat() if drill.ended_at else None,
        "ended_by": drill.ended_by,
        "calls_routed": drill.calls_routed,
        "pilot_logins": drill.pilot_logins,
        "first_call_s": drill.first_call_s,
        "first_login_s": drill.first_login_s,
        "readiness": drill.readiness,
    }


def switch_view(record: SwitchRecord) -> dict[str, Any]:
    """A switch or revert as ``GET /bcp/switches`` answers it: the seconds are counted from
    ``at``; None where nothing has been measured yet (no call, no login, never synced)."""
    return {
        "id": record.id,
        "to": record.to_side,
        "by": record.actor,
        "from_tenant_id": record.from_tenant_id,
        "to_tenant_id": record.to_tenant_id,
        "epoch": record.epoch,
        "at": record.at.isoformat(),
        "switch_ms": record.switch_ms,
        "first_call_s": _seconds_since(record.at, record.first_call_at),
        "first_login_s": _seconds_since(record.at, record.first_login_at),
        "rpo_s": _seconds_since(record.last_sync_at, record.at),
        "last_sync_at": record.last_sync_at.isoformat() if record.last_sync_at else None,
    }


def _seconds_since(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)
