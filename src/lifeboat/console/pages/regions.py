"""/regions (SPEC §8, §11): operators see each database's live check, as GET /status answers it.

The check itself says only up or down; it measures no latency, so the page shows none."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lifeboat.console.context import ConsoleDep
from lifeboat.console.web import ConsoleRoute, render
from lifeboat.services.tenancy import status
from lifeboat.services.tenancy.tenants import require_operator

router = APIRouter(route_class=ConsoleRoute)


@router.get("/regions", include_in_schema=False)
def regions_page(request: Request, ctx: ConsoleDep) -> Response:
    require_operator(ctx.principal)
    return render(request, "regions.html", title="Regions", ctx=ctx, report=status.region_status(ctx.platform))
