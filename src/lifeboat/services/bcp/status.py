"""The state of a BCP plan: its tenants, active side, settings, last, open and next run, BCP access.

Reads what pairing, sync and access know; none of them imports this module, so the imports sit at the top.
"""

from __future__ import annotations

from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.records import FINISHED, RunStatus, Side
from lifeboat.services.bcp.access import access_counts
from lifeboat.services.bcp.pairing import PairedTenants, settings_view
from lifeboat.services.bcp.sync import run_view
from lifeboat.store.plans import RunRepo


def plan_status(platform: Platform, view: PairedTenants) -> dict[str, Any]:
    """The plan as the API and the CLI show it."""
    with platform.directory.read() as conn:
        runs = RunRepo(conn)
        last, last_ok = runs.last(view.plan.id, FINISHED), runs.last(view.plan.id, (RunStatus.SUCCEEDED,))
        open_run = runs.open_for_plan(view.plan.id)
    plan = view.plan
    return {
        "id": plan.id,
        "primary": {"tenant_id": view.primary.id, "name": view.primary.name, "region": view.primary.region},
        "bcp": {"tenant_id": view.bcp.id, "name": view.bcp.name, "region": view.bcp.region},
        "active_side": plan.active_side,
        "active_tenant_id": view.primary.id if plan.active_side == Side.PRIMARY else view.bcp.id,
        "epoch": plan.epoch,
        "sync_settings": settings_view(plan),
        "sync_paused": plan.active_side == Side.BCP,
        "last_run": run_view(last) if last else None,
        "last_successful_run_at": last_ok.finished_at.isoformat() if last_ok and last_ok.finished_at else None,
        "open_run": run_view(open_run) if open_run else None,
        "next_run_at": plan.next_run_at.isoformat() if plan.next_run_at and plan.active_side == Side.PRIMARY else None,
        "created_at": plan.created_at.isoformat(),
        "bcp_access": {"primary": access_counts(view.primary_region, view.primary.id),
                       "bcp": access_counts(view.bcp_region, view.bcp.id)},
    }
