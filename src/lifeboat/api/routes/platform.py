"""Status, regions, tenants and the audit log."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator, Field

from lifeboat.api.deps import CurrentPrincipal, PageDep, PlatformDep, page_of
from lifeboat.api.openapi import errors
from lifeboat.domain.fields import NOT_BLANK
from lifeboat.services.tenancy import audit, status, tenants
from lifeboat.views.audit import audit_row_view
from lifeboat.views.tenants import tenant_view

router = APIRouter()


class NewTenant(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK, description="Unique; not only spaces")
    region: str = Field(description="One of the configured regions (GET /regions)")  # enum added by install_openapi


@router.get("/status", tags=["status"], summary="Regions and whether their databases answer (no login)")
def get_status(platform: PlatformDep) -> dict[str, Any]:
    return status.region_status(platform)


@router.get("/regions", tags=["status"], summary="Configured regions")
def get_regions(platform: PlatformDep) -> dict[str, Any]:
    items = status.configured_regions(platform)
    return page_of(items, len(items))


@router.get("/tenants", tags=["tenants"], summary="Tenants you may see")
def list_tenants(platform: PlatformDep, principal: CurrentPrincipal, page: PageDep) -> dict[str, Any]:
    items, total = tenants.list_tenants(platform, principal, limit=page.limit, offset=page.offset)
    return page_of([tenant_view(t) for t in items], total)


@router.post(
    "/tenants",
    status_code=201,
    tags=["tenants"],
    responses=errors(409),
    summary="Create a tenant in a region (operator)",
)
def create_tenant(platform: PlatformDep, principal: CurrentPrincipal, body: NewTenant) -> dict[str, Any]:
    return tenant_view(tenants.create_tenant(platform, principal, body.name, body.region))


@router.get("/tenants/{tenant_id}", tags=["tenants"], summary="One tenant")
def get_tenant(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return tenant_view(tenants.get_tenant(platform, principal, tenant_id))


ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)


def _iso_time(value: object) -> object:
    """Only an ISO 8601 date and time: pydantic alone would also take "0.5" as seconds since 1970."""
    if isinstance(value, str) and not ISO_TIME.fullmatch(value):
        raise ValueError("expected an ISO 8601 date and time, for example 2026-11-30T08:00:00Z")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]


class AuditQuery(BaseModel):
    """Filters of GET /audit; every one optional, all of them together narrow the list."""

    actor: str | None = Field(None, max_length=200, description="An actor (user:alice) or its name (alice)")
    action: str | None = Field(
        None, max_length=60, description="This action or those under it: users finds users.bcp_type"
    )
    entity_type: str | None = Field(None, max_length=40, description="An entity type of SPEC §2 (users, skills, ...)")
    since: IsoTime | None = Field(None, description="From this time on (ISO 8601; without a zone, UTC)")
    until: IsoTime | None = Field(None, description="Before this time (ISO 8601; without a zone, UTC)")


@router.get("/tenants/{tenant_id}/audit", tags=["audit"], summary="Audit log of a tenant, newest first")
def get_audit(
    platform: PlatformDep,
    principal: CurrentPrincipal,
    tenant_id: int,
    page: PageDep,
    only: Annotated[AuditQuery, Query()],
) -> dict[str, Any]:
    rows, total = audit.list_audit(
        platform,
        principal,
        tenant_id,
        limit=page.limit,
        offset=page.offset,
        only=audit.AuditFilter(**only.model_dump()),
    )
    return page_of([audit_row_view(r) for r in rows], total)
