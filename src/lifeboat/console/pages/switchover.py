"""/bcp/switchover (SPEC §6, §11, §14): readiness, the passkey, Switch to BCP / Revert to
primary, and the history of switches with what each measured.

The switch ends every session of both tenants, this one too, so a successful switch sends
the browser to the login page, which says why."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.pages.overview import readiness_report
from lifeboat.console.paging import Paging
from lifeboat.console.web import ConsoleRoute, forget_session, redirect, render, require_csrf
from lifeboat.domain.records import Side
from lifeboat.errors import Forbidden, Invalid, Locked, NotFound
from lifeboat.services.bcp import switch_history, switchover
from lifeboat.views.bcp import switch_view

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/switchover"
HISTORY_PER_PAGE = 20


def _page(request: Request, ctx: Console, *, status: int = 200, error: str | None = None, page: int = 1) -> Response:
    if ctx.plan is None or ctx.tenant_id is None:
        raise NotFound("This tenant has no BCP plan, so there is nothing to switch.", code="bcp_plan_not_found")
    report = readiness_report(ctx)
    if report is None:  # the page is the readiness report and the switch: GET .../readiness decides who sees it
        raise Forbidden("The switchover page needs the permission 'bcp.enablement.view'.", code="permission_denied")
    to = Side.PRIMARY if ctx.bcp_active else Side.BCP
    paging = Paging.at(page, HISTORY_PER_PAGE)
    records, total = switch_history.list_switches(
        ctx.platform, ctx.principal, ctx.tenant_id, limit=paging.limit, offset=paging.offset
    )
    return render(
        request,
        "switchover.html",
        status=status,
        title="Switchover",
        ctx=ctx,
        readiness=report,
        to=to,
        never_synced=to == Side.BCP and _never_synced(report),
        error=error,
        may_switch=ctx.principal.can(switchover.PERMISSION),
        switches=[switch_view(r) for r in records],
        paging=paging.of(total, PATH, {}),
    )


@router.get(PATH, include_in_schema=False)
def switchover_page(request: Request, ctx: ConsoleDep, page: int = 1) -> Response:
    return _page(request, ctx, page=page)


@router.post(PATH, include_in_schema=False, dependencies=[Depends(require_csrf)])
def switch(
    request: Request, ctx: ConsoleDep, to: Annotated[str, Form()] = "", passkey: Annotated[str, Form()] = ""
) -> Response:
    payload: dict[str, Any] = {"to": to, "passkey": passkey}
    tenant_id = ctx.own_tenant("Operators switch with the API or the command line.")
    try:
        switchover.switch_to(ctx.platform, ctx.principal, tenant_id, payload)
    except (Locked, Invalid) as exc:
        return _page(request, ctx, status=exc.status, error=_message(exc))
    except Forbidden as exc:
        if exc.code != "wrong_passkey":
            raise
        return _page(request, ctx, status=403, error="The passkey is wrong; nothing changed.")
    response = redirect(f"/login?reason=switched&to={to}")
    forget_session(request, response)  # the switch ended it already
    return response


def _never_synced(report: dict[str, Any]) -> bool:
    """No sync has ever succeeded: the BCP tenant holds none of the primary's configuration."""
    return any(c["name"] == "last_successful_sync" and c["at"] is None for c in report["checks"])


def _message(exc: Locked | Invalid) -> str:
    if isinstance(exc, Locked):
        return exc.message + " Nothing changed."
    return "Enter the passkey; nothing changed."
