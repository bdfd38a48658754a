"""The /bcp routes of a tenant: pairing, passkey, sync settings, runs, plan, correlations,
and the script checklist. ``{tenant_id}`` may be either tenant of the plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, StrictBool

from lifeboat.api.deps import BodyId, CurrentPrincipal, PageDep, PlatformDep, page_of
from lifeboat.api.openapi import errors
from lifeboat.domain import sync_settings
from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.errors import NotFound
from lifeboat.services.bcp import pairing, switch_history, sync
from lifeboat.services.bcp.status import plan_status
from lifeboat.views.bcp import plan_view, run_view, settings_view, switch_view

router = APIRouter(prefix="/tenants/{tenant_id}/bcp", tags=["bcp"])


class Pairing(BaseModel):
    bcp_tenant_id: BodyId


class RunRequest(BaseModel):
    force: StrictBool = False


@router.post("/validate", summary="Check whether a tenant can become this tenant's BCP tenant (operator)")
def validate(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, body: Pairing) -> dict[str, Any]:
    problems = pairing.validate_pairing(platform, principal, tenant_id, body.bcp_tenant_id)
    return {"ok": not problems, "problems": problems}


@router.post(
    "", status_code=201, responses=errors(409), summary="Pair the tenants; the passkey is shown once (operator)"
)
def create(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, body: Pairing) -> dict[str, Any]:
    _, passkey = pairing.create_plan(platform, principal, tenant_id, body.bcp_tenant_id)
    status = plan_status(platform, pairing.open_bcp_plan(platform, principal, tenant_id))
    return {"plan": plan_view(status), "passkey": passkey}


@router.post("/passkey", summary="Generate a new passkey; the old one stops working (operator)")
def regenerate(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return {"passkey": pairing.regenerate_passkey(platform, principal, tenant_id)}


@router.get("", summary="The BCP plan: tenants, regions, active side, epoch, sync settings, last and next run")
def get(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return plan_view(plan_status(platform, pairing.open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")))


@router.get("/sync-settings", summary="Sync settings")
def get_settings(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return settings_view(pairing.open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view").plan)


SETTINGS_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": sync_settings.schema()}}}}


@router.put(
    "/sync-settings", summary="Change sync settings; enabling starts a first run at once", openapi_extra=SETTINGS_DOC
)
def put_settings(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    plan, first = pairing.update_settings(platform, principal, tenant_id, payload)
    return {**settings_view(plan), "first_run": run_view(first) if first else None}


@router.post("/plan", summary="Dry run: what a sync would do now, per entity, without writing")
def dry_run(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return sync.dry_run(platform, principal, tenant_id)


@router.post(
    "/sync-runs",
    status_code=202,
    responses=errors(409),
    summary="Sync now (409 sync_paused while the BCP tenant is active)",
)
def start_run(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, body: RunRequest | None = None
) -> dict[str, Any]:
    run = sync.request_run(platform, principal, tenant_id, force=bool(body and body.force))
    return run_view(run)


@router.get("/sync-runs", summary="Sync history, newest first")
def list_runs(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, page: PageDep) -> dict[str, Any]:
    runs, total = sync.list_runs(platform, principal, tenant_id, limit=page.limit, offset=page.offset)
    return page_of([run_view(r) for r in runs], total)


@router.get("/sync-runs/{run_id}", summary="One sync run in full")
def get_run(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, run_id: int) -> dict[str, Any]:
    return run_view(sync.get_run(platform, principal, tenant_id, run_id))


@router.get("/correlations", summary="Primary id to BCP id, per synced entity")
def correlations(
    platform: PlatformDep,
    principal: CurrentPrincipal,
    tenant_id: int,
    page: PageDep,
    type: Annotated[str | None, Query(description="An entity type, e.g. skills")] = None,
) -> dict[str, Any]:
    if type is not None and type not in ENTITY_TYPES:
        raise NotFound(
            f"Unknown entity type {type!r}.", code="unknown_entity_type", details={"types": sorted(ENTITY_TYPES)}
        )
    items, total = sync.list_correlations(platform, principal, tenant_id, type, limit=page.limit, offset=page.offset)
    return page_of(items, total)


@router.get("/script-checklist", summary="Every reference in every synced script and what became of it")
def checklist(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, page: PageDep) -> dict[str, Any]:
    items = sync.script_checklist(platform, principal, tenant_id)
    return page_of(items[page.offset : page.offset + page.limit], len(items))


@router.get(
    "/switches",
    tags=["switchover"],
    summary="Every switch and revert, newest first: who, from where, switch time, first call, first login, RPO",
)
def list_switches(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, page: PageDep) -> dict[str, Any]:
    records, total = switch_history.list_switches(platform, principal, tenant_id, limit=page.limit, offset=page.offset)
    return page_of([switch_view(r) for r in records], total)
