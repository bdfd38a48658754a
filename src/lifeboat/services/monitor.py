"""Watching the regions: a region whose database stops answering raises ``region_down``
for the tenants that live there and their BCP partners; ``region_up`` when it answers again.
Nothing here switches anything: switching stays a human decision."""

from __future__ import annotations

from lifeboat.bootstrap import Platform
from lifeboat.domain.records import AlertEvent
from lifeboat.services.tenancy.status import region_status
from lifeboat.store.units import DirectoryUnit


def check_regions(platform: Platform) -> list[tuple[str, str]]:
    """Compare each region with its last known status; returns the changes it alerted."""
    now_status = {r["name"]: r["status"] for r in region_status(platform)["regions"]}
    changes = []
    with platform.directory_unit() as uow:
        states = uow.region_states
        known = states.all()
        for name, status in now_status.items():
            if known.get(name, "up") == status:
                if name not in known:
                    states.set(name, status)
                continue
            states.set(name, status)
            tenants = _affected_tenants(uow, name)
            uow.alert(
                tenants,
                AlertEvent.REGION_DOWN if status == "down" else AlertEvent.REGION_UP,
                {"region": name, "status": status, "summary": f"region {name} is {status}"},
            )
            changes.append((name, status))
    return changes


def _affected_tenants(uow: DirectoryUnit, region: str) -> list[int]:
    tenants, _ = uow.tenants.page(limit=1_000_000, offset=0)
    local = {t.id for t in tenants if t.region == region}
    partners = set()
    for tenant_id in local:
        plan = uow.plans.of_tenant(tenant_id)
        if plan is not None:
            partners |= {plan.primary_tenant_id, plan.bcp_tenant_id}
    return sorted(local | partners)
