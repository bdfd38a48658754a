"""/bcp/access (SPEC §5, §11): each employee's BCP type, changed inline or in bulk from a CSV.

The same services as the API: the list is GET /users' permission (admin.view), a row's change
is PATCH /users/{id} (admin.edit, and no change to a user holding permissions the editor
lacks), the upload is POST /users/bcp-types. The database pages and counts: a tenant of
10,000 users costs what one of 50 does.

With htmx a row saves as soon as its select changes and answers with the row's form and what
happened; without JavaScript each row has its own Save button and the page comes back.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.paging import SIZES, Paging
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.domain.entities import BCP_TYPES, Entity
from lifeboat.errors import BadInput, Forbidden, Invalid, NotFound, TooLarge
from lifeboat.services.bcp import access
from lifeboat.services.entities import crud

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/access"
PAGE_SIZE = 50
FRAGMENT_HEADER = "X-Lifeboat-Fragment"  # console.js swaps such an answer in even when it is a 4xx


def tenant_of(ctx: Console) -> int:
    return ctx.own_tenant("This page belongs to a tenant: operators use the API or the command line for it.")


def _filters(q: str | None, bcp_type: str | None, per: str | None) -> dict[str, str]:
    """What the list is narrowed to, as the query string keeps it (blank ones left out)."""
    size = Paging.size_of(per, PAGE_SIZE)
    given = (
        ("q", (q or "").strip()[:128]),
        ("bcp_type", bcp_type if bcp_type in BCP_TYPES else ""),
        ("per", str(size) if size != PAGE_SIZE else ""),
    )
    return {k: v for k, v in given if v}


@router.get(PATH, include_in_schema=False)
def access_page(
    request: Request,
    ctx: ConsoleDep,
    q: str | None = None,
    bcp_type: str | None = None,
    per: str | None = None,
    page: int = 1,
) -> Response:
    return _page(request, ctx, _filters(q, bcp_type, per), page)


def _page(
    request: Request, ctx: Console, filters: dict[str, str], page: int, *, status: int = 200, **values: Any
) -> Response:
    tenant_id = tenant_of(ctx)
    paging = Paging.at(page, Paging.size_of(filters.get("per"), PAGE_SIZE))
    users, total = access.list_users(
        ctx.platform,
        ctx.principal,
        tenant_id,
        search=filters.get("q"),
        bcp_type=filters.get("bcp_type"),
        limit=paging.limit,
        offset=paging.offset,
    )
    return render(
        request,
        "access.html",
        status=status,
        title="BCP access",
        ctx=ctx,
        filters=filters,
        rows=[_row(u) for u in users],
        paging=paging.of(total, PATH, filters),
        counts=access.bcp_type_counts(ctx.platform, ctx.principal, tenant_id),
        may_edit=ctx.principal.can("admin.edit"),
        bcp_types=BCP_TYPES,
        sizes=SIZES,
        back=_back(filters, page),
        **values,
    )


def _row(user: Entity) -> dict[str, Any]:
    data = user.data
    return {
        "id": user.id,
        "username": data.get("username", ""),
        "email": data.get("email", ""),
        "name": " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p),
        "is_active": user.is_active,
        "bcp_type": data.get("bcp_type", "none"),
    }


def _back(filters: dict[str, str], page: int) -> str:
    query = {**filters, **({"page": str(page)} if page > 1 else {})}
    return PATH + (f"?{urlencode(query)}" if query else "")


@router.post(PATH + "/users/{user_id}", include_in_schema=False, dependencies=[Depends(require_csrf)])
def change_bcp_type(
    request: Request,
    ctx: ConsoleDep,
    user_id: int,
    bcp_type: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = PATH,
) -> Response:
    tenant_id = tenant_of(ctx)
    inline = bool(request.headers.get("HX-Request"))
    try:
        user = crud.update_entity(ctx.platform, ctx.principal, tenant_id, "users", user_id, {"bcp_type": bcp_type})
    except (Forbidden, Invalid, NotFound) as exc:
        if not inline:
            raise
        current = crud.get_entity(ctx.platform, ctx.principal, tenant_id, "users", user_id)
        return _row_answer(request, ctx, current, back, status=exc.status, error=_refusal(exc))
    if not inline:
        return redirect(_safe_back(back))
    return _row_answer(request, ctx, user, back, saved=True)


def _row_answer(
    request: Request,
    ctx: Console,
    user: Entity,
    back: str,
    *,
    status: int = 200,
    saved: bool = False,
    error: str | None = None,
) -> Response:
    tenant_id = tenant_of(ctx)
    response = render(
        request,
        "_access_row.html",
        status=status,
        row=_row(user),
        back=_safe_back(back),
        may_edit=True,
        bcp_types=BCP_TYPES,
        saved=saved,
        error=error,
        counts=access.bcp_type_counts(ctx.platform, ctx.principal, tenant_id),
        oob=True,
    )
    response.headers[FRAGMENT_HEADER] = "1"
    return response


def _refusal(exc: Forbidden | Invalid | NotFound) -> str:
    if exc.code == "permission_escalation":
        return "Not changed: this user holds permissions you do not."
    if isinstance(exc, Invalid):
        return "Not changed: the BCP type must be none, single or multiple."
    return f"Not changed: {exc.message}"


def _safe_back(target: str) -> str:
    """Back to the list as it was (its filters and page), never anywhere else."""
    return target if target == PATH or target.startswith(PATH + "?") else PATH


@router.post(PATH + "/upload", include_in_schema=False, dependencies=[Depends(require_csrf)])
def upload(request: Request, ctx: ConsoleDep, csv_file: Annotated[UploadFile | None, File()] = None) -> Response:
    """The CSV of POST /users/bcp-types; the page comes back with its report (every bad row by line)."""
    tenant_id = tenant_of(ctx)
    body = csv_file.file.read(access.MAX_CSV_BYTES + 1) if csv_file is not None else b""
    if not body:
        return _page(request, ctx, {}, 1, status=400, upload_error="Choose a CSV file to upload.")
    try:
        report = access.set_bcp_types_csv(ctx.platform, ctx.principal, tenant_id, body)
    except (BadInput, TooLarge) as exc:
        return _page(request, ctx, {}, 1, status=exc.status, upload_error=exc.message)
    return _page(request, ctx, {}, 1, upload=report, filename=csv_file.filename if csv_file else None)
