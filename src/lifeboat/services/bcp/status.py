"""The state of a BCP plan: its tenants, last, last successful and open run, BCP access counts.

Reads what pairing and access know; neither imports this module, so the imports sit at the top.
How a face shows it is ``views.bcp.plan_view``.
"""

from __future__ import annotations

from datetime import datetime

from lifeboat.bootstrap import Platform
from lifeboat.domain.records import FINISHED, PlanStatus, RunStatus
from lifeboat.services.bcp.access import access_counts
from lifeboat.services.bcp.freshness import plan_stale_since
from lifeboat.services.bcp.pairing import PairedTenants


def plan_status(platform: Platform, view: PairedTenants) -> PlanStatus:
    with platform.directory_unit(write=False) as uow:
        runs = uow.runs
        last, last_ok = runs.last(view.plan.id, FINISHED), runs.last(view.plan.id, (RunStatus.SUCCEEDED,))
        open_run = runs.open_for_plan(view.plan.id)
    return PlanStatus(
        plan=view.plan,
        primary=view.primary,
        bcp=view.bcp,
        last_run=last,
        last_success=last_ok,
        open_run=open_run,
        primary_access=access_counts(view.primary_region, view.primary.id),
        bcp_access=access_counts(view.bcp_region, view.bcp.id),
        stale_since=plan_stale_since(view.plan, last_ok.finished_at if last_ok else None),
    )


def last_switch(platform: Platform, view: PairedTenants) -> tuple[datetime, str] | None:
    """When the active side last changed and who changed it, from the record of switch attempts."""
    with platform.directory_unit(write=False) as uow:
        return uow.switch_attempts.last_switched(view.plan.id)
