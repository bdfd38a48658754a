"""/bcp/failback (SPEC §11, §14): what administrators changed in the BCP tenant since the
last switch to it, field by field, and copying the ticked changes back into the primary.

The same service and checks as GET/POST /api/v1/tenants/{t}/bcp/failback: reading needs
``bcp.sync.view``, applying ``bcp.sync.edit`` and the edit permission of each item's area.
The form is a plain POST of the ticked item ids; "Apply selected" opens a <details> that
holds the real button, so the confirmation works without JavaScript. After applying, the
page shows one result per ticked item above what is still reported."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.pages.sync import type_label
from lifeboat.console.web import ConsoleRoute, render, require_csrf
from lifeboat.domain.entities import ENTITY_TYPES, Link
from lifeboat.domain.failback import FailbackItem
from lifeboat.errors import NotFound
from lifeboat.services.bcp import failback

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/failback"
ACTIONS = {"created": "Created", "updated": "Changed", "deactivated": "Deactivated", "deleted": "Deleted"}


def _tenant(ctx: Console) -> int:
    tenant_id = ctx.own_tenant("Operators read and apply failback with the API or the command line.")
    if ctx.plan is None:
        raise NotFound("This tenant has no BCP plan, so there is nothing to fail back.", code="bcp_plan_not_found")
    return tenant_id


def _page(
    request: Request,
    ctx: Console,
    items: list[FailbackItem],
    *,
    results: list[dict[str, Any]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "failback.html",
        status=status,
        title="Failback",
        ctx=ctx,
        groups=_groups(items, ctx, failback.referenced_names(ctx.platform, ctx.principal, ctx.tenant_id or 0, items)),
        total=len(items),
        results=results,
        error=error,
        may_apply=ctx.principal.can(failback.APPLY_PERMISSION),
    )


@router.get(PATH, include_in_schema=False)
def failback_page(request: Request, ctx: ConsoleDep) -> Response:
    return _page(request, ctx, failback.failback_report(ctx.platform, ctx.principal, _tenant(ctx)))


@router.post(PATH, include_in_schema=False, dependencies=[Depends(require_csrf)])
def apply_selected(request: Request, ctx: ConsoleDep, item: Annotated[list[str] | None, Form()] = None) -> Response:
    tenant_id = _tenant(ctx)
    before = {i.id: i for i in failback.failback_report(ctx.platform, ctx.principal, tenant_id)}
    if not item:
        return _page(request, ctx, list(before.values()), error="Tick at least one change to apply.", status=422)
    outcome = failback.apply_failback(ctx.platform, ctx.principal, tenant_id, {"items": item})
    results = [_result_row(r, before.get(r["id"])) for r in outcome]
    return _page(request, ctx, failback.failback_report(ctx.platform, ctx.principal, tenant_id), results=results)


def _groups(items: list[FailbackItem], ctx: Console, names: dict[int, str]) -> list[dict[str, Any]]:
    """The report by entity type (already in type order), each item ready to show."""
    return [
        {"type": type_name, "label": type_label(type_name), "items": [_row(i, ctx, names) for i in group]}
        for type_name, group in groupby(items, key=lambda i: i.type)
    ]


def _row(item: FailbackItem, ctx: Console, names: dict[int, str]) -> dict[str, Any]:
    here = ctx.plan.bcp.id if ctx.plan else None
    own_id = item.bcp_id if ctx.tenant_id == here else item.primary_id  # the one this session can open
    links = {link.field: link for link in ENTITY_TYPES[item.type].links}
    return {
        "id": item.id,
        "type": item.type,
        "action": item.action,
        "action_label": ACTIONS[item.action],
        "name": item.name,
        "bcp_id": item.bcp_id,
        "primary_id": item.primary_id,
        "link": f"/config/{item.type}/{own_id}" if own_id is not None and item.action != "deleted" else None,
        "changes": [_change(c, links.get(c["field"]), names) for c in item.changes],
    }


def _change(change: dict[str, Any], link: Link | None, names: dict[int, str]) -> dict[str, Any]:
    """One changed field; a reference shows the names of what it points at (the id where
    the entity is gone), a list of nested references (a user's skills) stays as it is."""
    field, before, after = change["field"], change["before"], change["after"]
    if link is None or link.shape == "nested":
        return {"field": field, "before": shown(before), "after": shown(after)}
    return {"field": field, "before": _names(link, before, names), "after": _names(link, after, names)}


def _names(link: Link, value: Any, names: dict[int, str]) -> str | None:
    if value is None:
        return None
    shown_ids = [names.get(i, f"id {i}") for i in link.ids({link.field: value})]
    return ", ".join(shown_ids) if shown_ids else "(none)"


def _result_row(result: dict[str, Any], item: FailbackItem | None) -> dict[str, Any]:
    error = result["error"]
    return {
        "id": result["id"],
        "name": f"{type_label(item.type)} {item.name}" if item else result["id"],
        "applied": result["status"] == "applied",
        "primary_id": result["primary_id"],
        "message": error["message"] if error else None,
        "code": error["code"] if error else None,
        "references": [_reference(r) for r in (error or {}).get("details", {}).get("references", [])]
        if error and isinstance(error.get("details"), dict)
        else [],
    }


def _reference(reference: dict[str, Any]) -> str:
    where = f"BCP id {reference['bcp_id']}" if "bcp_id" in reference else f"primary id {reference.get('primary_id')}"
    return f"{reference['field']}: {type_label(reference['target'])} {where}"


def shown(value: Any) -> str | None:
    """A field's value as text: None stays None (shown as a dash), text as it is, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
