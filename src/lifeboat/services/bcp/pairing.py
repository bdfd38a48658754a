"""BCP pairing (operator), the passkey, and the plan's sync settings (BCP administrator)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.records import BcpPlan, Side, SyncRun, Tenant, Trigger
from lifeboat.domain.sync_settings import READ_ONLY, default_settings, next_run, shown_settings, validate_settings
from lifeboat.errors import Conflict, Invalid, NotFound, Unavailable
from lifeboat.services.tenancy.tenants import open_tenant, require_operator
from lifeboat.store.audit import AuditRepo
from lifeboat.store.database import Region
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo, RunRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import directory_audit, now

PASSKEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on a bridge call


@dataclass(frozen=True)
class PlanView:
    """A plan with both of its tenants, as every /bcp answer needs it."""

    plan: BcpPlan
    primary: Tenant
    bcp: Tenant
    primary_region: Region
    bcp_region: Region


def new_passkey() -> str:
    chars = "".join(secrets.choice(PASSKEY_ALPHABET) for _ in range(20))
    return "-".join(chars[i:i + 5] for i in range(0, 20, 5))


def open_plan(platform: Platform, principal: Principal, tenant_id: int, permission: str | None = None) -> PlanView:
    """The plan of either of its tenants, if the principal may enter that tenant."""
    open_tenant(platform, principal, tenant_id, permission)
    with platform.directory.read() as conn:
        plan = PlanRepo(conn).of_tenant(tenant_id)
        if plan is None:
            raise NotFound(f"Tenant {tenant_id} has no BCP plan.", code="bcp_plan_not_found", details={"tenant_id": tenant_id})
        tenants = TenantRepo(conn)
        primary, bcp = tenants.get(plan.primary_tenant_id), tenants.get(plan.bcp_tenant_id)
    return PlanView(plan, primary, bcp, platform.region(primary.region), platform.region(bcp.region))


def only_plan_tenant(platform: Platform) -> int:
    """The primary tenant of the only plan there is: what the command line acts on unless told."""
    with platform.directory.read() as conn:
        ids = PlanRepo(conn).primary_tenant_ids()
    if len(ids) != 1:
        raise NotFound("Name the tenant with --tenant: " + ("there is no BCP plan yet." if not ids else
                       f"there are {len(ids)} plans (primary tenants {', '.join(map(str, ids))})."),
                       code="tenant_required")
    return ids[0]


def validate_pairing(platform: Platform, principal: Principal, tenant_id: int, bcp_tenant_id: Any) -> list[dict[str, str]]:
    require_operator(principal)
    primary, _ = open_tenant(platform, principal, tenant_id)
    if isinstance(bcp_tenant_id, bool) or not isinstance(bcp_tenant_id, int):
        raise Invalid("bcp_tenant_id must be a tenant id.", code="validation_failed",
                      details={"errors": [{"field": "bcp_tenant_id", "code": "required", "message": "must be a tenant id"}]})
    with platform.directory.read() as conn:
        bcp = TenantRepo(conn).get(bcp_tenant_id)
        plans = PlanRepo(conn)
        primary_plan, bcp_plan = plans.of_tenant(primary.id), plans.of_tenant(bcp_tenant_id) if bcp else None
    problems = []
    if bcp is None:
        return [_problem("bcp_tenant_not_found", f"Tenant {bcp_tenant_id} does not exist.")]
    if bcp.id == primary.id:
        problems.append(_problem("same_tenant", "A tenant cannot be its own BCP tenant."))
    elif bcp.region == primary.region:
        problems.append(_problem("same_region", f"Both tenants are in {primary.region}; the BCP tenant must be in another region."))
    if primary_plan is not None:
        problems.append(_problem("already_paired", f"Tenant {primary.id} is already in a BCP plan (plan {primary_plan.id})."))
    if bcp_plan is not None and bcp.id != primary.id:
        problems.append(_problem("already_paired", f"Tenant {bcp.id} is already in a BCP plan (plan {bcp_plan.id})."))
    problems += _emptiness_problems(platform, bcp)
    return problems


def _emptiness_problems(platform: Platform, bcp: Tenant) -> list[dict[str, str]]:
    region = platform.region(bcp.region)
    try:
        with region.db.read() as conn:
            users, _ = EntityRepo(conn, region.id_block).page(bcp.id, "users", limit=1, offset=0)
    except Unavailable:
        return [_problem("region_unavailable", f"The region {bcp.region} of the BCP tenant cannot be reached.")]
    if users:
        return [_problem("bcp_tenant_not_empty", f"Tenant {bcp.id} already has users of its own; a BCP tenant starts empty.")]
    return []


def _problem(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def create_plan(platform: Platform, principal: Principal, tenant_id: int, bcp_tenant_id: Any) -> tuple[BcpPlan, str]:
    """Pair the tenants and return the plan and its passkey (the only time it is shown)."""
    problems = validate_pairing(platform, principal, tenant_id, bcp_tenant_id)
    if problems:
        raise Conflict("The tenants cannot be paired: " + "; ".join(p["message"] for p in problems),
                       code="pairing_invalid", details={"problems": problems})
    passkey = new_passkey()
    with platform.directory.write() as conn:
        plans = PlanRepo(conn)
        if plans.of_tenant(tenant_id) or plans.of_tenant(bcp_tenant_id):  # paired by someone meanwhile
            raise Conflict("One of the tenants was paired meanwhile.", code="already_paired")
        plan = plans.create(tenant_id, bcp_tenant_id, platform.passkeys.hash(passkey), default_settings())
        AuditRepo(conn, directory_audit).record(actor=principal.actor, action="bcp.plan_create", tenant_id=tenant_id,
                                                after={"plan_id": plan.id, "bcp_tenant_id": bcp_tenant_id})
    return plan, passkey


def regenerate_passkey(platform: Platform, principal: Principal, tenant_id: int) -> str:
    require_operator(principal)
    view = open_plan(platform, principal, tenant_id)
    passkey = new_passkey()
    with platform.directory.write() as conn:
        PlanRepo(conn).update(view.plan.id, passkey_hash=platform.passkeys.hash(passkey))
        for tenant in (view.primary, view.bcp):
            AuditRepo(conn, directory_audit).record(actor=principal.actor, action="bcp.passkey_regenerate",
                                                    tenant_id=tenant.id, details={"plan_id": view.plan.id})
    return passkey


def update_settings(platform: Platform, principal: Principal, tenant_id: int, payload: Any) -> tuple[BcpPlan, SyncRun | None]:
    """Change the sync settings; turning sync on starts a first run at once."""
    view = open_plan(platform, principal, tenant_id, "bcp.sync.edit")
    shown = shown_settings(view.plan)
    enabled, settings = validate_settings(payload, view.plan.sync_settings, {k: shown[k] for k in READ_ONLY})
    with platform.directory.write() as conn:
        plans = PlanRepo(conn)
        plan = plans.get(view.plan.id, lock=True)
        turning_on = enabled is True and not plan.sync_enabled
        values: dict[str, Any] = {"sync_settings": settings}
        stamp = now()
        if enabled is not None:
            values["sync_enabled"] = enabled
        if turning_on:
            values["sync_enabled_at"] = stamp
        enabled_at = values.get("sync_enabled_at", plan.sync_enabled_at)
        is_on = values.get("sync_enabled", plan.sync_enabled)
        values["next_run_at"] = next_run(settings["schedule"], enabled_at, stamp) if is_on else None
        plans.update(plan.id, **values)
        AuditRepo(conn, directory_audit).record(
            actor=principal.actor, action="bcp.sync_settings", tenant_id=tenant_id,
            before=shown_settings(plan), after={"enabled": is_on, **settings})
        first = None
        if turning_on and plan.active_side == Side.PRIMARY:
            runs = RunRepo(conn)
            first = runs.open_for_plan(plan.id) or runs.enqueue(plan.id, trigger=Trigger.ENABLE, force=False,
                                                                requested_by=principal.actor)
        return plans.get(plan.id), first
