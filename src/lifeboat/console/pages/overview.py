"""/ — the Overview (SPEC §11): active side, epoch, since when and by whom, region status,
last and next sync, readiness. Each part is shown when the API would show it to this principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.web import ConsoleRoute, render
from lifeboat.errors import Forbidden
from lifeboat.services.bcp import readiness as readiness_service
from lifeboat.services.bcp.status import last_switch, plan_status
from lifeboat.services.tenancy import status, tenants
from lifeboat.views.bcp import plan_view

router = APIRouter(route_class=ConsoleRoute)

SAID_IN_THE_MESSAGE = ("name", "status", "message", "at", "age_s", "run_id", "run_status", "stale", "stale_since")
SWITCH_SEARCH_DEPTH = 200  # audit rows searched for the last switch (newest first)
CHECK_TITLES = {
    "last_successful_sync": "Last successful sync",
    "last_run": "Last sync run",
    "script_references": "Script references",
    "voice_points_of_contact": "Voice points of contact in BCP",
    "users_with_bcp_access": "Users with BCP access",
    "skills_with_bcp_agents": "Voice skills with BCP agents",
    "bcp_region": "BCP region",
}


@router.get("/", include_in_schema=False)
def overview(request: Request, ctx: ConsoleDep) -> Response:
    values: dict[str, Any] = {"regions": status.region_status(ctx.platform)}
    if ctx.tenant_id is None:
        values["tenants"] = tenants.list_tenants(ctx.platform, ctx.principal, limit=100, offset=0)[0]
    elif (paired := ctx.plan) is not None:
        values.update(
            plan=_allowed(lambda: plan_view(plan_status(ctx.platform, paired)), ctx, "bcp.sync.view"),
            readiness=readiness_report(ctx),
            last_switch=_last_switch(ctx),
        )
    return render(request, "overview.html", title="Overview", ctx=ctx, **values)


def readiness_report(ctx: Console) -> dict[str, Any] | None:
    tenant_id = ctx.tenant_id
    if tenant_id is None:
        return None
    report = _allowed(
        lambda: readiness_service.readiness(ctx.platform, ctx.principal, tenant_id), ctx, "bcp.enablement.view"
    )
    if report is None:
        return None
    return {**report, "checks": [_shaped(check) for check in report["checks"]]}


def _shaped(check: dict[str, Any]) -> dict[str, Any]:
    figures = {k: v for k, v in check.items() if k not in SAID_IN_THE_MESSAGE}
    return {
        "name": check["name"],
        "title": CHECK_TITLES.get(check["name"], check["name"].replace("_", " ").capitalize()),
        "status": check["status"],
        "message": check["message"],
        "at": check.get("at"),
        "figures": [(k.replace("_", " "), _figure(v)) for k, v in figures.items() if v is not None],
    }


def _figure(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} listed"
    return str(value)


def _allowed(read: Callable[[], Any], ctx: Console, permission: str) -> Any:
    """What ``read`` answers, or None when the principal lacks ``permission`` (the part is left out)."""
    if not ctx.principal.can(permission):
        return None
    try:
        return read()
    except Forbidden:
        return None


def _last_switch(ctx: Console) -> dict[str, Any] | None:
    """The newest successful switch and who made it (shown, as before, to whom may read the audit log)."""
    if ctx.plan is None or not ctx.principal.can("admin.view"):
        return None
    found = last_switch(ctx.platform, ctx.plan)
    return {"at": found[0].isoformat(), "by": found[1]} if found else None
