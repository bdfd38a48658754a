"""/bcp/drills (SPEC §11, §14): start a drill, watch its counters, end it, and the past drills.

The same services and permissions as /api/v1/tenants/{t}/bcp/drills: the page is GET .../drills
(bcp.enablement.view); starting (bcp.enablement.edit and the passkey) and ending are its POSTs.
Test numbers are offered from the primary's voice numbers and pilots from its usernames, both
searched and bounded (``services.bcp.drill_choices``): a tenant of 10,000 users gets a search
box, not 10,000 checkboxes. Typed numbers and usernames are taken as well, as the API takes them.

Without JavaScript, "Find" is a button of the start form that comes back with the choices
narrowed and what was ticked still ticked (never the passkey); the running drill's counters
refresh by reload. With htmx they refresh by themselves. Ending asks first with a <details>
holding the real button, so the confirmation works without JavaScript.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.pages.access import tenant_of
from lifeboat.console.paging import Paging
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.errors import Conflict, Forbidden, Invalid, Locked, NotFound
from lifeboat.services.bcp import drill_choices, drills
from lifeboat.views.bcp import drill_view

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/drills"
HISTORY_PER_PAGE = 20
NUMBERS_SHOWN = 50
USERS_SHOWN = 20
SEPARATORS = re.compile(r"[\s,;]+")
Many = Annotated[list[str] | None, Form()]
Text = Annotated[str, Form()]


def _plan_tenant(ctx: Console) -> int:
    tenant_id = tenant_of(ctx)
    if ctx.plan is None:
        raise NotFound("This tenant has no BCP plan, so there is nothing to drill.", code="bcp_plan_not_found")
    return tenant_id


def _choices(ctx: Console, tenant_id: int, picked: dict[str, Any]) -> dict[str, Any]:
    """The numbers and usernames offered: what the searches find, and what is ticked already."""
    numbers, numbers_total = drill_choices.voice_numbers(
        ctx.platform, ctx.principal, tenant_id, search=picked["nq"], limit=NUMBERS_SHOWN
    )
    shown = {n["number"] for n in numbers}
    ticked_elsewhere = [{"number": n, "name": "", "synced": True} for n in picked["numbers"] if n not in shown]
    users, users_total = drill_choices.usernames(
        ctx.platform, ctx.principal, tenant_id, search=picked["uq"], limit=USERS_SHOWN
    )
    return {
        "numbers": ticked_elsewhere + numbers,
        "numbers_total": numbers_total,
        "users": [u for u in picked["users"] if u not in users] + users,
        "users_total": users_total,
    }


def _page(
    request: Request,
    ctx: Console,
    *,
    status: int = 200,
    picked: dict[str, Any] | None = None,
    error: str | None = None,
    errors: list[dict[str, str]] | None = None,
    page: int = 1,
    ended: str | None = None,
    note: str | None = None,
) -> Response:
    tenant_id = _plan_tenant(ctx)
    paging = Paging.at(page, HISTORY_PER_PAGE)
    records, total = drills.page(ctx.platform, ctx.principal, tenant_id, limit=paging.limit, offset=paging.offset)
    running = next((r for r in records if r.status == "running"), None) if paging.number == 1 else None
    if running is None:
        running = drill_choices.running_or_none(ctx.platform, ctx.principal, tenant_id)
    picked = picked or _picked()
    may_start = ctx.principal.can(drills.PERMISSION)
    return render(
        request,
        "drills.html",
        status=status,
        title="Drills",
        ctx=ctx,
        running=drill_view(running) if running else None,
        drills=[drill_view(r) for r in records if running is None or r.id != running.id],
        paging=paging.of(total, PATH, {}),
        may_start=may_start,
        picked=picked,
        choices=_choices(ctx, tenant_id, picked) if may_start and running is None and not ctx.bcp_active else None,
        error=error,
        errors=_by_field(errors or []),
        ended=ended,
        note=note,
        limits={"min": drills.MIN_MINUTES, "max": drills.MAX_MINUTES, "default": drills.DEFAULT_MINUTES},
    )


def _by_field(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for e in errors:
        grouped.setdefault(e.get("field", "body"), []).append(e["message"])
    return grouped


def _picked(
    numbers: list[str] | None = None,
    other_numbers: str = "",
    users: list[str] | None = None,
    other_users: str = "",
    minutes: str = "",
    nq: str = "",
    uq: str = "",
) -> dict[str, Any]:
    """What the form holds, ticked and typed together, each once in the order given."""
    return {
        "numbers": _once([*(numbers or []), *SEPARATORS.split(other_numbers)]),
        "users": _once([*(users or []), *SEPARATORS.split(other_users)]),
        "minutes": minutes.strip(),
        "nq": nq.strip()[:64],
        "uq": uq.strip()[:64],
    }


def _once(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


@router.get(PATH, include_in_schema=False)
def drills_page(
    request: Request, ctx: ConsoleDep, nq: str = "", uq: str = "", page: int = 1, ended: str | None = None
) -> Response:
    return _page(request, ctx, picked=_picked(nq=nq, uq=uq), page=page, ended=ended)


@router.post(PATH, include_in_schema=False, dependencies=[Depends(require_csrf)])
def start_drill(
    request: Request,
    ctx: ConsoleDep,
    numbers: Many = None,
    other_numbers: Text = "",
    users: Many = None,
    other_users: Text = "",
    minutes: Text = "",
    nq: Text = "",
    uq: Text = "",
    passkey: Text = "",
    action: Text = "start",
) -> Response:
    tenant_id = _plan_tenant(ctx)
    picked = _picked(numbers, other_numbers, users, other_users, minutes, nq, uq)
    if action == "find":  # the no-JavaScript search: the same form back, narrowed, nothing started
        # Enter in any field presses the form's first button, Find: say why nothing started
        note = "Nothing started: the passkey is not kept; type it again and press Start drill." if passkey else None
        return _page(request, ctx, picked=picked, note=note)
    payload: dict[str, Any] = {"numbers": picked["numbers"], "users": picked["users"], "passkey": passkey}
    if picked["minutes"]:
        given = picked["minutes"]
        payload["minutes"] = int(given) if given.isdigit() else given  # the service says what is wrong
    try:
        drills.start(ctx.platform, ctx.principal, tenant_id, payload)
    except Invalid as exc:
        found = exc.details.get("errors", [])
        return _page(request, ctx, status=422, picked=picked, error=_invalid(found), errors=found)
    except (Locked, Conflict) as exc:
        return _page(request, ctx, status=exc.status, picked=picked, error=exc.message + " Nothing changed.")
    except Forbidden as exc:
        if exc.code != "wrong_passkey":
            raise
        return _page(request, ctx, status=403, picked=picked, error="The passkey is wrong; nothing changed.")
    return redirect(PATH)


def _invalid(errors: list[dict[str, str]]) -> str:
    listed = "; ".join(f"{e.get('field', 'body')}: {e['message']}" for e in errors[:5])
    return f"The drill did not start ({listed}); nothing changed."


@router.get(PATH + "/{drill_id}/live", include_in_schema=False)
def live(request: Request, ctx: ConsoleDep, drill_id: int) -> Response:
    """The fragment htmx polls while a drill runs; once it has ended the page reloads (HX-Refresh)
    to show it among the past drills."""
    drill = drill_view(drills.get(ctx.platform, ctx.principal, _plan_tenant(ctx), drill_id))
    response = render(
        request, "_drill_running.html", ctx=ctx, running=drill, may_start=ctx.principal.can(drills.PERMISSION)
    )
    if drill["status"] != "running":
        response.headers["HX-Refresh"] = "true"
    return response


@router.post(PATH + "/{drill_id}/end", include_in_schema=False, dependencies=[Depends(require_csrf)])
def end_drill(request: Request, ctx: ConsoleDep, drill_id: int) -> Response:
    try:
        drills.end(ctx.platform, ctx.principal, _plan_tenant(ctx), drill_id)
    except Conflict as exc:  # ended meanwhile (its time limit, a switch, someone else)
        return _page(request, ctx, status=409, error=exc.message)
    return redirect(f"{PATH}?ended={drill_id}")
