"""Tenants: create one in a region, list them, and open one for a principal."""

from __future__ import annotations

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, Entity, validate
from lifeboat.domain.fields import text
from lifeboat.errors import Conflict, Forbidden, Invalid, NotFound
from lifeboat.store.audit import AuditRepo
from lifeboat.store.database import Region
from lifeboat.store.directory import Tenant, TenantRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import directory_audit, now


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("Only an operator (account representative) may do this.", code="operator_required")


def open_tenant(platform: Platform, principal: Principal, tenant_id: int, permission: str | None = None) -> tuple[Tenant, Region]:
    """The tenant and its region, if the principal may enter it and holds ``permission``.

    A user of another tenant learns nothing: the answer is the same 404 as for a tenant
    that does not exist.
    """
    if not principal.may_enter(tenant_id):
        raise _no_such_tenant(tenant_id)
    with platform.directory.read() as conn:
        tenant = TenantRepo(conn).get(tenant_id)
    if tenant is None:
        raise _no_such_tenant(tenant_id)
    if permission and not principal.can(permission):
        raise Forbidden(f"This needs the permission {permission!r}.", code="permission_denied",
                        details={"permission": permission})
    return tenant, platform.region(tenant.region)


def _no_such_tenant(tenant_id: int) -> NotFound:
    return NotFound(f"Tenant {tenant_id} does not exist.", code="tenant_not_found", details={"tenant_id": tenant_id})


def create_tenant(platform: Platform, principal: Principal, name: object, region_name: object) -> Tenant:
    """Create a tenant in a region, with its business unit. Operators only."""
    require_operator(principal)
    errors = []
    try:
        name = text(200).check(name)
    except Exception as exc:  # FieldError
        errors.append({"field": "name", "code": getattr(exc, "code", "bad_name"), "message": str(exc)})
    if not isinstance(region_name, str) or region_name not in platform.regions:
        errors.append({"field": "region", "code": "region_not_found",
                       "message": f"must be one of {', '.join(sorted(platform.regions))}"})
    if errors:
        raise Invalid.fields(errors)
    region = platform.region(region_name)
    with region.db.write() as region_conn, platform.directory.write() as conn:
        repo = TenantRepo(conn)
        if repo.by_name(name):
            raise Conflict(f"A tenant named {name!r} exists already.", code="tenant_name_taken", details={"name": name})
        tenant = repo.create(name, region.name)
        AuditRepo(conn, directory_audit).record(actor=principal.actor, action="tenant.create", tenant_id=tenant.id,
                                                after={"id": tenant.id, "name": name, "region": region.name})
        _create_business_unit(region, region_conn, tenant)
    return tenant


def _create_business_unit(region: Region, conn, tenant: Tenant) -> None:  # noqa: ANN001
    kind = ENTITY_TYPES["business-unit"]
    repo = EntityRepo(conn, region.id_block)
    stamp = now()
    data = validate(kind, {"name": tenant.name, "time_zone": "UTC", "settings": {}})
    repo.insert(Entity(repo.new_ids()[0], tenant.id, kind.name, data, stamp, stamp))


def list_tenants(platform: Platform, principal: Principal, *, limit: int, offset: int) -> tuple[list[Tenant], int]:
    with platform.directory.read() as conn:
        ids = None if principal.is_operator else [principal.tenant_id]
        return TenantRepo(conn).page(limit=limit, offset=offset, ids=ids)


def get_tenant(platform: Platform, principal: Principal, tenant_id: int) -> Tenant:
    return open_tenant(platform, principal, tenant_id)[0]
