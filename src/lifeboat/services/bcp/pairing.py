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
from lifeboat.store.database import Region
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

PASSKEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on a bridge call


@dataclass(frozen=True)
class PairedTenants:
    """A plan with both of its tenants and their regions, as every /bcp answer needs it."""

    plan: BcpPlan
    primary: Tenant
    bcp: Tenant
    primary_region: Region
    bcp_region: Region

    @property
    def ids(self) -> list[int]:
        """Both tenants' ids, primary first: what a switch, a run or a passkey concerns."""
        return [self.primary.id, self.bcp.id]


def new_passkey() -> str:
    chars = "".join(secrets.choice(PASSKEY_ALPHABET) for _ in range(20))
    return "-".join(chars[i : i + 5] for i in range(0, 20, 5))


def open_bcp_plan(
    platform: Platform, principal: Principal, tenant_id: int, permission: str | None = None
) -> PairedTenants:
    """The plan of either of its tenants, if the principal may enter that tenant."""
    open_tenant(platform, principal, tenant_id, permission)
    with platform.directory_unit(write=False) as uow:
        plan = uow.plans.of_tenant(tenant_id)
        if plan is None:
            raise NotFound(
                f"Tenant {tenant_id} has no BCP plan.", code="bcp_plan_not_found", details={"tenant_id": tenant_id}
            )
        return paired_tenants(platform, uow, plan)


def paired_tenants(platform: Platform, uow: DirectoryUnit, plan: BcpPlan) -> PairedTenants:
    """``plan`` with its two tenants, read in ``uow``."""
    primary, bcp = uow.tenants.get(plan.primary_tenant_id), uow.tenants.get(plan.bcp_tenant_id)
    assert primary is not None and bcp is not None  # a plan's tenants are foreign keys: never deleted under it
    return PairedTenants(plan, primary, bcp, platform.region(primary.region), platform.region(bcp.region))


def current_plan(uow: DirectoryUnit, plan_id: int, *, lock: bool = False) -> BcpPlan:
    """The plan as it is now in ``uow`` (locked for the transaction on PostgreSQL if asked)."""
    plan = uow.plans.get(plan_id, lock=lock)
    if plan is None:  # plans are never deleted; a caller held its id a moment ago
        raise NotFound(f"BCP plan {plan_id} does not exist.", code="bcp_plan_not_found", details={"plan_id": plan_id})
    return plan


def only_plan_tenant(platform: Platform) -> int:
    """The primary tenant of the only plan there is: what the command line acts on unless told."""
    with platform.directory_unit(write=False) as uow:
        ids = uow.plans.primary_tenant_ids()
    if len(ids) != 1:
        raise NotFound(
            "Name the tenant with --tenant: "
            + (
                "there is no BCP plan yet."
                if not ids
                else f"there are {len(ids)} plans (primary tenants {', '.join(map(str, ids))})."
            ),
            code="tenant_required",
        )
    return ids[0]


def validate_pairing(
    platform: Platform, principal: Principal, tenant_id: int, bcp_tenant_id: object
) -> list[dict[str, str]]:
    require_operator(principal)
    primary, _ = open_tenant(platform, principal, tenant_id)
    if isinstance(bcp_tenant_id, bool) or not isinstance(bcp_tenant_id, int):
        raise Invalid(
            "bcp_tenant_id must be a tenant id.",
            code="validation_failed",
            details={"errors": [{"field": "bcp_tenant_id", "code": "required", "message": "must be a tenant id"}]},
        )
    with platform.directory_unit(write=False) as uow:
        bcp = uow.tenants.get(bcp_tenant_id)
        primary_plan, bcp_plan = uow.plans.of_tenant(primary.id), uow.plans.of_tenant(bcp_tenant_id) if bcp else None
    problems = []
    if bcp is None:
        return [_problem("bcp_tenant_not_found", f"Tenant {bcp_tenant_id} does not exist.")]
    if bcp.id == primary.id:
        problems.append(_problem("same_tenant", "A tenant cannot be its own BCP tenant."))
    elif bcp.region == primary.region:
        problems.append(
            _problem("same_region", f"Both tenants are in {primary.region}; the BCP tenant must be in another region.")
        )
    if primary_plan is not None:
        problems.append(
            _problem("already_paired", f"Tenant {primary.id} is already in a BCP plan (plan {primary_plan.id}).")
        )
    if bcp_plan is not None and bcp.id != primary.id:
        problems.append(_problem("already_paired", f"Tenant {bcp.id} is already in a BCP plan (plan {bcp_plan.id})."))
    problems += _emptiness_problems(platform, bcp)
    return problems


def _emptiness_problems(platform: Platform, bcp: Tenant) -> list[dict[str, str]]:
    try:
        with platform.region_unit(bcp.region, write=False) as uow:
            users, _ = uow.entities.page(bcp.id, "users", limit=1, offset=0)
    except Unavailable:
        return [_problem("region_unavailable", f"The region {bcp.region} of the BCP tenant cannot be reached.")]
    if users:
        return [
            _problem(
                "bcp_tenant_not_empty", f"Tenant {bcp.id} already has users of its own; a BCP tenant starts empty."
            )
        ]
    return []


def _problem(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def create_plan(platform: Platform, principal: Principal, tenant_id: int, bcp_tenant_id: object) -> tuple[BcpPlan, str]:
    """Pair the tenants and return the plan and its passkey (the only time it is shown)."""
    problems = validate_pairing(platform, principal, tenant_id, bcp_tenant_id)
    if problems:
        raise Conflict(
            "The tenants cannot be paired: " + "; ".join(p["message"] for p in problems),
            code="pairing_invalid",
            details={"problems": problems},
        )
    assert isinstance(bcp_tenant_id, int)  # validate_pairing refuses anything else
    passkey = new_passkey()
    with platform.directory_unit() as uow:
        if uow.plans.of_tenant(tenant_id) or uow.plans.of_tenant(bcp_tenant_id):  # paired by someone meanwhile
            raise Conflict("One of the tenants was paired meanwhile.", code="already_paired")
        plan = uow.plans.create(tenant_id, bcp_tenant_id, platform.passkeys.hash(passkey), default_settings())
        uow.audit(
            principal.actor,
            "bcp.plan_create",
            tenant_id=tenant_id,
            after={"plan_id": plan.id, "bcp_tenant_id": bcp_tenant_id},
        )
    return plan, passkey


def regenerate_passkey(platform: Platform, principal: Principal, tenant_id: int) -> str:
    require_operator(principal)
    tenants = open_bcp_plan(platform, principal, tenant_id)
    passkey = new_passkey()
    with platform.directory_unit() as uow:
        uow.plans.update(tenants.plan.id, passkey_hash=platform.passkeys.hash(passkey))
        uow.audit(
            principal.actor, "bcp.passkey_regenerate", tenant_id=tenants.ids, details={"plan_id": tenants.plan.id}
        )
    return passkey


def update_settings(
    platform: Platform, principal: Principal, tenant_id: int, payload: object
) -> tuple[BcpPlan, SyncRun | None]:
    """Change the sync settings; turning sync on starts a first run at once."""
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.edit")
    shown = shown_settings(tenants.plan)
    enabled, settings = validate_settings(payload, tenants.plan.sync_settings, {k: shown[k] for k in READ_ONLY})
    with platform.directory_unit() as uow:
        plan = current_plan(uow, tenants.plan.id, lock=True)
        turning_on = enabled is True and not plan.sync_enabled
        values: dict[str, Any] = {"sync_settings": settings}
        stamp = now()
        if enabled is not None:
            values["sync_enabled"] = enabled
        if turning_on:
            values["sync_enabled_at"] = stamp
        enabled_at = stamp if turning_on else plan.sync_enabled_at
        is_on = plan.sync_enabled if enabled is None else enabled
        values["next_run_at"] = None
        if is_on:
            assert enabled_at is not None  # stamped whenever sync is turned on
            values["next_run_at"] = next_run(settings["schedule"], enabled_at, stamp)
        uow.plans.update(plan.id, **values)
        uow.audit(
            principal.actor,
            "bcp.sync_settings",
            tenant_id=tenant_id,
            before=shown_settings(plan),
            after={"enabled": is_on, **settings},
        )
        first = None
        if turning_on and plan.active_side == Side.PRIMARY:
            first = uow.runs.open_for_plan(plan.id) or uow.runs.enqueue(
                plan.id, trigger=Trigger.ENABLE, force=False, requested_by=principal.actor
            )
        return current_plan(uow, plan.id), first
