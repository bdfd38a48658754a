"""/tenants (SPEC §4, §9, §11): operators list and create tenants, pair a primary with its BCP
tenant, and regenerate a plan's passkey.

The same services as GET/POST /tenants and POST /tenants/{t}/bcp{,/validate,/passkey}. A
passkey is shown once, in the page that answers the POST that made it: never in a URL, never
on a later page, and every console page is ``Cache-Control: no-store``. A reload re-sends that
POST, which must not quietly make another passkey: pairing twice is refused by the service,
and the regeneration form names the passkey it replaces (a digest of its hash), so a second
send of it is refused and the passkey shown stays the one that works. Regenerating asks first
with a <details> holding the real button, so it works without JavaScript.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.paging import Paging
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.domain.records import Tenant
from lifeboat.errors import Conflict, Invalid, LifeboatError, NotFound
from lifeboat.services.bcp import pairing
from lifeboat.services.bcp.pairing import PairedTenants
from lifeboat.services.bcp.status import plan_status
from lifeboat.services.tenancy import tenants
from lifeboat.services.tenancy.tenants import require_operator
from lifeboat.views.bcp import plan_view
from lifeboat.views.tenants import tenant_view

router = APIRouter(route_class=ConsoleRoute)

PATH = "/tenants"
ONE = PATH + "/{tenant_id:int}"
PAGE_SIZE = 25
CANDIDATES = 500  # tenants offered in a list as the BCP tenant; with more, its id is typed


# --------------------------------------------------------------------------- the list and creation


@router.get(PATH, include_in_schema=False)
def tenants_page(request: Request, ctx: ConsoleDep, page: int = 1, per: str | None = None) -> Response:
    return _list(request, ctx, Paging.at(page, Paging.size_of(per, PAGE_SIZE)))


def _list(request: Request, ctx: Console, paging: Paging, *, status: int = 200, **values: Any) -> Response:
    require_operator(ctx.principal)
    rows, total = tenants.list_tenants(ctx.platform, ctx.principal, limit=paging.limit, offset=paging.offset)
    filters = {"per": str(paging.size)} if paging.size != PAGE_SIZE else {}
    values.setdefault("form", {"name": "", "region": ""})
    values.setdefault("errors", {})
    return render(
        request,
        "tenants.html",
        status=status,
        title="Tenants",
        ctx=ctx,
        rows=[_row(ctx, tenant) for tenant in rows],
        paging=paging.of(total, PATH, filters),
        regions=list(ctx.platform.regions),
        **values,
    )


def _row(ctx: Console, tenant: Tenant) -> dict[str, Any]:
    """A tenant with what its plan makes of it: which side it is, its partner, the active side."""
    paired = _paired(ctx, tenant.id)
    row: dict[str, Any] = {**tenant_view(tenant), "side": None, "partner": None, "active": None}
    if paired:
        is_primary = paired.primary.id == tenant.id
        row.update(
            side="primary" if is_primary else "bcp",
            partner=tenant_view(paired.bcp if is_primary else paired.primary),
            active=paired.plan.active_side,
        )
    return row


def _paired(ctx: Console, tenant_id: int) -> PairedTenants | None:
    try:
        return pairing.open_bcp_plan(ctx.platform, ctx.principal, tenant_id)
    except NotFound as exc:
        if exc.code == "bcp_plan_not_found":
            return None
        raise


@router.post(PATH, include_in_schema=False, dependencies=[Depends(require_csrf)])
def create_tenant(
    request: Request, ctx: ConsoleDep, name: Annotated[str, Form()] = "", region: Annotated[str, Form()] = ""
) -> Response:
    """Created: on to its page, where it is paired. Refused: the list again, the messages next to the fields."""
    form = {"name": name, "region": region}
    try:
        tenant = tenants.create_tenant(ctx.platform, ctx.principal, name, region)
    except (Invalid, Conflict) as exc:
        first = Paging.at(1, PAGE_SIZE)
        return _list(request, ctx, first, status=exc.status, form=form, errors=_field_errors(exc))
    return redirect(f"{PATH}/{tenant.id}?created=1")


def _field_errors(exc: LifeboatError) -> dict[str, str]:
    """One message per field (the first); a taken name goes with the name; the rest under "form"."""
    if exc.code == "tenant_name_taken":
        return {"name": "another tenant has this name already"}
    errors: dict[str, str] = {}
    for error in exc.details.get("errors", []):
        errors.setdefault(str(error.get("field", "form")), str(error.get("message", "")))
    return errors or {"form": exc.message}


# --------------------------------------------------------------------------- one tenant, pairing, passkey


@router.get(ONE, include_in_schema=False)
def tenant_page(request: Request, ctx: ConsoleDep, tenant_id: int, created: int | None = None) -> Response:
    return _detail(request, ctx, tenant_id, created=bool(created))


def _detail(request: Request, ctx: Console, tenant_id: int, *, status: int = 200, **values: Any) -> Response:
    require_operator(ctx.principal)
    tenant = tenants.get_tenant(ctx.platform, ctx.principal, tenant_id)
    paired = _paired(ctx, tenant_id)
    values.setdefault("chosen", None)
    values.setdefault("errors", {})
    return render(
        request,
        "tenant.html",
        status=status,
        title=f"Tenant {tenant.name}",
        ctx=ctx,
        tenant=tenant_view(tenant),
        plan=plan_view(plan_status(ctx.platform, paired)) if paired else None,
        side=(None if paired is None else "primary" if paired.primary.id == tenant_id else "bcp"),
        fingerprint=passkey_fingerprint(paired) if paired else None,
        candidates=[] if paired else _candidates(ctx, tenant_id),
        **values,
    )


def _candidates(ctx: Console, tenant_id: int) -> list[dict[str, Any]] | None:
    """The other tenants to choose the BCP tenant from; None when there are too many to list."""
    listed, total = tenants.list_tenants(ctx.platform, ctx.principal, limit=CANDIDATES + 1, offset=0)
    if total > CANDIDATES + 1:
        return None
    return [tenant_view(t) for t in listed if t.id != tenant_id]


def passkey_fingerprint(paired: PairedTenants) -> str:
    """Names the passkey a regeneration form replaces, without telling anything about it."""
    return hashlib.sha256(paired.plan.passkey_hash.encode()).hexdigest()[:32]


def _bcp_id(value: str) -> object:
    """The chosen tenant's id; anything else goes to the service as it came, which refuses it."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 20 else value


@router.post(ONE + "/bcp/validate", include_in_schema=False, dependencies=[Depends(require_csrf)])
def validate_pairing(
    request: Request, ctx: ConsoleDep, tenant_id: int, bcp_tenant_id: Annotated[str, Form()] = ""
) -> Response:
    chosen = _bcp_id(bcp_tenant_id)
    try:
        problems = pairing.validate_pairing(ctx.platform, ctx.principal, tenant_id, chosen)
    except Invalid as exc:
        return _detail(request, ctx, tenant_id, status=exc.status, chosen=chosen, errors=_field_errors(exc))
    return _detail(request, ctx, tenant_id, chosen=chosen, problems=problems, validated=True)


@router.post(ONE + "/bcp", include_in_schema=False, dependencies=[Depends(require_csrf)])
def pair(request: Request, ctx: ConsoleDep, tenant_id: int, bcp_tenant_id: Annotated[str, Form()] = "") -> Response:
    """Paired: this page, rendered once, holds the passkey. Refused: the problems, nothing made."""
    chosen = _bcp_id(bcp_tenant_id)
    try:
        _, passkey = pairing.create_plan(ctx.platform, ctx.principal, tenant_id, chosen)
    except Invalid as exc:
        return _detail(request, ctx, tenant_id, status=exc.status, chosen=chosen, errors=_field_errors(exc))
    except Conflict as exc:
        problems = exc.details.get("problems") or [{"code": exc.code, "message": exc.message}]
        return _detail(request, ctx, tenant_id, status=exc.status, chosen=chosen, problems=problems, validated=True)
    return _detail(request, ctx, tenant_id, passkey=passkey, paired_now=True)


@router.post(ONE + "/bcp/passkey", include_in_schema=False, dependencies=[Depends(require_csrf)])
def regenerate_passkey(
    request: Request, ctx: ConsoleDep, tenant_id: int, replaces: Annotated[str, Form()] = ""
) -> Response:
    require_operator(ctx.principal)
    paired = pairing.open_bcp_plan(ctx.platform, ctx.principal, tenant_id)
    if replaces != passkey_fingerprint(paired):
        message = (
            "The passkey has changed since this form was shown (was the page that showed it reloaded?). "
            "Nothing was changed: the last passkey shown still works."
        )
        return _detail(request, ctx, tenant_id, status=409, errors={"passkey": message})
    passkey = pairing.regenerate_passkey(ctx.platform, ctx.principal, tenant_id)
    return _detail(request, ctx, tenant_id, passkey=passkey, regenerated=True)


@router.get(ONE + "/bcp", include_in_schema=False)
@router.get(ONE + "/bcp/validate", include_in_schema=False)
@router.get(ONE + "/bcp/passkey", include_in_schema=False)
def back_to_the_tenant(tenant_id: int) -> Response:
    """The address of a form's answer typed or reloaded as a GET: the tenant's page (no passkey)."""
    return redirect(f"{PATH}/{tenant_id}")
