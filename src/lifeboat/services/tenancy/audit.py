"""Reading the audit log of a tenant: its region's trail of configuration writes merged with
the directory's (tenant creation, failed logins, and later switch attempts)."""

from __future__ import annotations

from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.errors import Unavailable
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.audit import AuditFilter

__all__ = ["AuditFilter", "list_audit"]


def list_audit(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    *,
    limit: int,
    offset: int,
    only: AuditFilter | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first, the directory's and the region's records merged; ``only`` narrows both."""
    tenant, region = open_tenant(platform, principal, tenant_id, "admin.view")
    window = limit + offset
    with platform.directory_unit(write=False) as uow:
        global_rows, global_total = uow.audit_log.page(tenant.id, limit=window, offset=0, only=only)
    try:
        with platform.region_unit(region, write=False) as region_uow:
            local_rows, local_total = region_uow.audit_log.page(tenant.id, limit=window, offset=0, only=only)
    except Unavailable:
        local_rows, local_total = [], 0  # the directory's part is still worth showing
    merged = sorted(global_rows + local_rows, key=lambda r: r["at"], reverse=True)[offset : offset + limit]
    return merged, global_total + local_total
