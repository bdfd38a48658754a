"""Tenants: create one in a region, list them, and open one for a principal."""

from __future__ import annotations

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, Entity, validate
from lifeboat.domain.fields import text
from lifeboat.domain.records import Tenant
from lifeboat.errors import Conflict, Forbidden, Invalid, NotFound
from lifeboat.services.spanning import write_across
from lifeboat.store.database import Region
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit, RegionUnit


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("Only an operator (account representative) may do this.", code="operator_required")


def open_tenant(
    platform: Platform, principal: Principal, tenant_id: int, permission: str | None = None
) -> tuple[Tenant, Region]:
    """The tenant and its region, if the principal may enter it and holds ``permission``.

    A user of another tenant learns nothing: the answer is the same 404 as for a tenant
    that does not exist.
    """
    if not principal.may_enter(tenant_id):
        raise _no_such_tenant(tenant_id)
    with platform.directory_unit(write=False) as uow:
        tenant = uow.tenants.get(tenant_id)
    if tenant is None:
        raise _no_such_tenant(tenant_id)
    if permission and not principal.can(permission):
        raise Forbidden(
            f"This needs the permission {permission!r}.", code="permission_denied", details={"permission": permission}
        )
    return tenant, platform.region(tenant.region)


def _no_such_tenant(tenant_id: int) -> NotFound:
    return NotFound(f"Tenant {tenant_id} does not exist.", code="tenant_not_found", details={"tenant_id": tenant_id})


def create_tenant(platform: Platform, principal: Principal, name: object, region_name: object) -> Tenant:
    """Create a tenant in a region, with its business unit. Operators only.

    Two databases (``spanning.write_across``): the tenant row is the claim on the name, the
    business unit the thing in the region. A business unit that cannot be written gives the
    name back (no tenant is left). A crash in between leaves a tenant without its business
    unit: a working tenant all the same, whose ``PUT business-unit`` creates it.
    """
    require_operator(principal)
    name, region = _checked(platform, name, region_name)

    def claim(uow: DirectoryUnit) -> Tenant:
        if uow.tenants.by_name(name):
            raise Conflict(f"A tenant named {name!r} exists already.", code="tenant_name_taken", details={"name": name})
        tenant = uow.tenants.create(name, region.name)
        uow.audit(
            principal.actor,
            "tenant.create",
            tenant_id=tenant.id,
            after={"id": tenant.id, "name": name, "region": region.name},
        )
        return tenant

    def give_back(uow: DirectoryUnit, tenant: Tenant) -> None:
        uow.tenants.delete(tenant.id)
        uow.audit(
            principal.actor,
            "tenant.create_given_back",
            tenant_id=tenant.id,
            details={"reason": "its business unit could not be written"},
        )

    return write_across(platform, region, claim=claim, write=_create_business_unit, give_back=give_back)


def _checked(platform: Platform, name: object, region_name: object) -> tuple[str, Region]:
    errors = []
    try:
        name = text(200).check(name)
    except Exception as exc:  # FieldError
        errors.append({"field": "name", "code": getattr(exc, "code", "bad_name"), "message": str(exc)})
    if not isinstance(region_name, str) or region_name not in platform.regions:
        errors.append(
            {
                "field": "region",
                "code": "region_not_found",
                "message": f"must be one of {', '.join(sorted(platform.regions))}",
            }
        )
    if errors:
        raise Invalid.fields(errors)
    assert isinstance(name, str) and isinstance(region_name, str)
    return name, platform.region(region_name)


def _create_business_unit(uow: RegionUnit, tenant: Tenant) -> Tenant:
    kind = ENTITY_TYPES["business-unit"]
    stamp = now()
    data = validate(kind, {"name": tenant.name, "time_zone": "UTC", "settings": {}})
    uow.entities.insert(Entity(uow.entities.new_ids()[0], tenant.id, kind.name, data, stamp, stamp))
    return tenant


def list_tenants(platform: Platform, principal: Principal, *, limit: int, offset: int) -> tuple[list[Tenant], int]:
    mine = [principal.tenant_id] if principal.tenant_id is not None else []  # a voice token has none
    with platform.directory_unit(write=False) as uow:
        return uow.tenants.page(limit=limit, offset=offset, ids=None if principal.is_operator else mine)


def get_tenant(platform: Platform, principal: Principal, tenant_id: int) -> Tenant:
    return open_tenant(platform, principal, tenant_id)[0]


def find_tenant(platform: Platform, principal: Principal, name: str) -> Tenant | None:
    """The tenant of that name, if there is one the principal may enter (names are unique)."""
    with platform.directory_unit(write=False) as uow:
        tenant = uow.tenants.by_name(name)
    return tenant if tenant is not None and principal.may_enter(tenant.id) else None
