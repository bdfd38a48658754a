"""Pages of SPEC §11 not built yet. Each already answers as the finished page will for who
may see it: the permission is checked by calling the service the API calls (403 page when
missing), and the page points to the API route that does the work meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from lifeboat.console.context import CONFIG_PERMISSIONS, Console, ConsoleDep
from lifeboat.console.web import ConsoleRoute, render
from lifeboat.errors import Forbidden
from lifeboat.services.tenancy import tenants
from lifeboat.services.tenancy.tenants import require_operator

router = APIRouter(route_class=ConsoleRoute)


def _config(ctx: Console) -> Any:
    if not any(ctx.principal.can(p) for p in CONFIG_PERMISSIONS):
        raise Forbidden("Configuration needs one of " + ", ".join(CONFIG_PERMISSIONS) + ".", code="permission_denied")
    return None


def _operator(ctx: Console) -> bool:
    require_operator(ctx.principal)
    return False


# path -> (title, the check the API makes to read it, the API route meanwhile)
PAGES: dict[str, tuple[str, Callable[[Console], Any], str]] = {
    "/tenants": (
        "Tenants",
        lambda c: _operator(c) or tenants.list_tenants(c.platform, c.principal, limit=1, offset=0),
        "GET/POST /api/v1/tenants",
    ),
}


def _later(path: str) -> Callable[[Request, ConsoleDep], Response]:
    title, check, api = PAGES[path]

    def page(request: Request, ctx: ConsoleDep) -> Response:
        check(ctx)
        return render(request, "later.html", title=title, ctx=ctx, api=api)

    return page


for _path in PAGES:
    router.add_api_route(_path, _later(_path), methods=["GET"], include_in_schema=False)
