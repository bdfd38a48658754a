"""/config (SPEC §2, §11): the tenant's configuration, all 11 entity types, read and changed.

The same services and permission checks as /api/v1/tenants/{t}/<type>: reading a type needs
``{area}.view``, a change ``{area}.edit``; a form becomes the API's JSON payload, so the
API's validation speaks (its messages next to the fields). The database pages and counts
the lists. Deactivate and delete ask first with a <details> holding the real button, so
the confirmation works without JavaScript. The business unit is one record: view and edit.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from starlette.datastructures import FormData

from lifeboat.console import entity_display as show
from lifeboat.console import entity_forms as forms
from lifeboat.console.context import CONFIG_PERMISSIONS, Console, ConsoleDep
from lifeboat.console.pages.access import tenant_of
from lifeboat.console.paging import Paging
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.domain.entities import ENTITY_TYPES, Entity, EntityType, entity_type
from lifeboat.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from lifeboat.services.entities import crud, references

router = APIRouter(route_class=ConsoleRoute)

PATH = "/config"
SINGLETON = "business-unit"
PAGE_SIZE = 50


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]
CSRF = [Depends(require_csrf)]


def _kind(type_name: str) -> EntityType:
    """The type of a page's path; the business unit has pages of its own (one record)."""
    kind = entity_type(type_name)
    if kind.singleton:
        raise NotFound(f"The {kind.name} is one record: see {PATH}/{kind.name}.", code="singleton")
    return kind


# --------------------------------------------------------------------------- the index


@router.get(PATH, include_in_schema=False)
def config_index(request: Request, ctx: ConsoleDep) -> Response:
    tenant_id = tenant_of(ctx)
    visible = [k for k in ENTITY_TYPES.values() if ctx.principal.can(f"{k.area}.view")]
    if not visible:
        raise Forbidden("Configuration needs one of " + ", ".join(CONFIG_PERMISSIONS) + ".", code="permission_denied")
    types = [
        {"name": k.name, "label": show.type_label(k), "app": k.app, "count": _count(ctx, tenant_id, k)} for k in visible
    ]
    return render(request, "config.html", title="Configuration", ctx=ctx, types=types)


def _count(ctx: Console, tenant_id: int, kind: EntityType) -> int:
    if kind.singleton:
        try:
            crud.get_business_unit(ctx.platform, ctx.principal, tenant_id)
        except NotFound:
            return 0
        return 1
    return crud.list_entities(ctx.platform, ctx.principal, tenant_id, kind.name, limit=1, offset=0)[1]


# --------------------------------------------------------------------------- the business unit


@router.get(f"{PATH}/{SINGLETON}", include_in_schema=False)
def business_unit_page(request: Request, ctx: ConsoleDep, saved: int | None = None) -> Response:
    tenant_id = tenant_of(ctx)
    try:
        unit: Entity | None = crud.get_business_unit(ctx.platform, ctx.principal, tenant_id)
    except NotFound:
        unit = None
    return _view(request, ctx, entity_type(SINGLETON), unit, saved=saved)


@router.get(f"{PATH}/{SINGLETON}/edit", include_in_schema=False)
def business_unit_form(request: Request, ctx: ConsoleDep) -> Response:
    tenant_id = tenant_of(ctx)
    kind = entity_type(SINGLETON)
    try:
        unit: Entity | None = crud.get_business_unit(ctx.platform, ctx.principal, tenant_id)
    except NotFound:
        unit = None
    _require_edit(ctx, kind)
    return _form_page(request, ctx, kind, unit, forms.values_of(kind, unit), {})


@router.post(f"{PATH}/{SINGLETON}", include_in_schema=False, dependencies=CSRF)
def save_business_unit(request: Request, ctx: ConsoleDep, form: FormDep) -> Response:
    tenant_id = tenant_of(ctx)
    kind = entity_type(SINGLETON)
    posted = forms.read_form(kind, form, editing=True)
    version = _version_of(form)
    return _save(
        request,
        ctx,
        kind,
        None,
        posted,
        lambda: crud.update_entity(
            ctx.platform,
            ctx.principal,
            tenant_id,
            SINGLETON,
            None,
            posted.payload,
            replace_all=True,
            expected_version=version,
        ),
    )


# --------------------------------------------------------------------------- lists


@router.get(PATH + "/{type_name}", include_in_schema=False)
def list_page(
    request: Request, ctx: ConsoleDep, type_name: str, q: str | None = None, page: int = 1, deleted: str | None = None
) -> Response:
    tenant_id = tenant_of(ctx)
    kind = _kind(type_name)
    search = (q or "").strip()[:128]
    filters = {"q": search} if search else {}
    paging = Paging.at(page, PAGE_SIZE)
    found, total = crud.list_entities(
        ctx.platform, ctx.principal, tenant_id, kind.name, limit=paging.limit, offset=paging.offset, search=search
    )
    columns = show.list_columns(kind)
    rows = [
        {
            "id": e.id,
            "title": show.title_of(e),
            "cells": [show.cell(e, c) for c in columns],
            "is_active": e.is_active,
        }
        for e in found
    ]
    return render(
        request,
        "config_list.html",
        title=show.type_label(kind),
        ctx=ctx,
        kind=kind,
        label=show.type_label(kind),
        one=show.one_label(kind),
        columns=[forms.label_of(c) for c in columns],
        rows=rows,
        filters=filters,
        search_label="Search by " + " or ".join(forms.label_of(k).lower() for k in kind.natural_key),
        has_status=show.has_status(kind),
        paging=paging.of(total, f"{PATH}/{kind.name}", filters),
        may_edit=ctx.principal.can(f"{kind.area}.edit"),
        deleted=deleted,
    )


# --------------------------------------------------------------------------- one entity


@router.get(PATH + "/{type_name}/{entity_id:int}", include_in_schema=False)
def view_page(request: Request, ctx: ConsoleDep, type_name: str, entity_id: int, done: str | None = None) -> Response:
    kind = _kind(type_name)
    entity = crud.get_entity(ctx.platform, ctx.principal, tenant_of(ctx), kind.name, entity_id)
    return _view(request, ctx, kind, entity, done=done)


def _view(
    request: Request, ctx: Console, kind: EntityType, entity: Entity | None, *, status: int = 200, **values: Any
) -> Response:
    tenant_id = tenant_of(ctx)
    extra: dict[str, Any] = {}
    if entity is not None:
        extra["fields"] = show.fields_shown(ctx.platform, ctx.principal, tenant_id, entity)
        extra["title"] = show.title_of(entity)
        if entity.data.get("script_path"):
            extra["script"] = show.script_at(ctx.platform, ctx.principal, tenant_id, entity.data["script_path"])
        if kind.content_targets:  # a script: what its content refers to
            extra["references"] = references.script_references(ctx.platform, ctx.principal, tenant_id, entity.id)
        if "bcp_type" in kind.field_names:
            extra["bcp_type"] = entity.data.get("bcp_type", "none")
            extra["bcp_meaning"] = show.BCP_TYPE_MEANING.get(extra["bcp_type"], "")
    values.setdefault("title", show.type_label(kind))
    return render(
        request,
        "config_view.html",
        status=status,
        ctx=ctx,
        kind=kind,
        label=show.type_label(kind),
        entity=entity,
        has_status=show.has_status(kind),
        may_edit=ctx.principal.can(f"{kind.area}.edit"),
        **{**values, **extra},
    )


# --------------------------------------------------------------------------- create and edit


@router.get(PATH + "/{type_name}/new", include_in_schema=False)
def new_form(request: Request, ctx: ConsoleDep, type_name: str) -> Response:
    tenant_of(ctx)
    kind = _kind(type_name)
    _require_edit(ctx, kind)
    return _form_page(request, ctx, kind, None, forms.values_of(kind, None), {})


@router.post(PATH + "/{type_name}", include_in_schema=False, dependencies=CSRF)
def create(request: Request, ctx: ConsoleDep, type_name: str, form: FormDep) -> Response:
    tenant_id = tenant_of(ctx)
    kind = _kind(type_name)
    posted = forms.read_form(kind, form, editing=False)
    return _save(
        request,
        ctx,
        kind,
        None,
        posted,
        lambda: crud.create_entity(ctx.platform, ctx.principal, tenant_id, kind.name, posted.payload),
    )


@router.get(PATH + "/{type_name}/{entity_id:int}/edit", include_in_schema=False)
def edit_form(request: Request, ctx: ConsoleDep, type_name: str, entity_id: int) -> Response:
    kind = _kind(type_name)
    entity = crud.get_entity(ctx.platform, ctx.principal, tenant_of(ctx), kind.name, entity_id)
    _require_edit(ctx, kind)
    return _form_page(request, ctx, kind, entity, forms.values_of(kind, entity), {})


@router.post(PATH + "/{type_name}/{entity_id:int}", include_in_schema=False, dependencies=CSRF)
def update(request: Request, ctx: ConsoleDep, type_name: str, entity_id: int, form: FormDep) -> Response:
    tenant_id = tenant_of(ctx)
    kind = _kind(type_name)
    entity = crud.get_entity(ctx.platform, ctx.principal, tenant_id, kind.name, entity_id)
    posted = forms.read_form(kind, form, editing=True)
    version = _version_of(form)
    return _save(
        request,
        ctx,
        kind,
        entity,
        posted,
        lambda: crud.update_entity(
            ctx.platform, ctx.principal, tenant_id, kind.name, entity_id, posted.payload, expected_version=version
        ),
    )


def _save(request: Request, ctx: Console, kind: EntityType, entity: Entity | None, posted: Any, write: Any) -> Response:
    """Write, then go to the saved entity's page; or the form again with the messages by the fields."""
    if posted.errors:
        return _form_page(request, ctx, kind, entity, posted.shown, posted.errors, status=422)
    try:
        saved = write()
    except (Invalid, Conflict, TooLarge) as exc:
        return _form_page(request, ctx, kind, entity, posted.shown, forms.field_errors(exc, kind), status=exc.status)
    if kind.singleton:
        return redirect(f"{PATH}/{kind.name}?saved=1")
    return redirect(f"{PATH}/{kind.name}/{saved.id}?done=saved")


def _form_page(
    request: Request,
    ctx: Console,
    kind: EntityType,
    entity: Entity | None,
    shown: dict[str, Any],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Response:
    editing = entity is not None or kind.singleton
    widgets = [_with_options(ctx, w) for w in forms.widgets_of(kind, editing=editing)]
    if kind.singleton:
        action, cancel = f"{PATH}/{kind.name}", f"{PATH}/{kind.name}"
    elif entity is not None:
        action, cancel = f"{PATH}/{kind.name}/{entity.id}", f"{PATH}/{kind.name}/{entity.id}"
    else:
        action, cancel = f"{PATH}/{kind.name}", f"{PATH}/{kind.name}"
    heading = f"Edit {show.title_of(entity)}" if entity is not None else f"New {show.one_label(kind)}"
    return render(
        request,
        "config_form.html",
        status=status,
        title=heading,
        heading=heading,
        ctx=ctx,
        kind=kind,
        label=show.type_label(kind),
        entity=entity,
        widgets=widgets,
        values=shown,
        errors=errors,
        action=action,
        cancel=cancel,
        multipart=any(w.kind == "file" for w in widgets),
    )


def _with_options(ctx: Console, widget: forms.Widget) -> forms.Widget:
    """A reference offers the entities it may name, when there are few enough to list and the
    principal may read them; otherwise their id is typed."""
    if widget.link is None:
        return widget
    try:
        found, total = crud.list_entities(
            ctx.platform, ctx.principal, tenant_of(ctx), widget.link.target, limit=forms.MAX_REFERENCE_OPTIONS, offset=0
        )
    except Forbidden:
        total = forms.MAX_REFERENCE_OPTIONS + 1
    if total > forms.MAX_REFERENCE_OPTIONS:
        widget.kind = "id" if widget.kind == "reference" else "ids"
        widget.help = f"The id of one of {widget.link.target}." if widget.kind == "id" else "Ids separated by commas."
        return widget
    widget.choices = [(str(e.id), show.title_of(e)) for e in found]
    return widget


def _require_edit(ctx: Console, kind: EntityType) -> None:
    if not ctx.principal.can(f"{kind.area}.edit"):
        raise Forbidden(f"Changing {kind.name} needs the permission {kind.area}.edit.", code="permission_denied")


def _version_of(form: FormData) -> int | None:
    raw = form.get("version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


# --------------------------------------------------------------------------- deactivate and delete


@router.post(PATH + "/{type_name}/{entity_id:int}/active", include_in_schema=False, dependencies=CSRF)
def set_active(ctx: ConsoleDep, type_name: str, entity_id: int, active: Annotated[str, Form()] = "") -> Response:
    kind = _kind(type_name)
    if not show.has_status(kind):
        raise NotFound(f"{kind.name} have no active/inactive status.", code="no_status")
    is_active = active == "true"
    crud.update_entity(ctx.platform, ctx.principal, tenant_of(ctx), kind.name, entity_id, {"is_active": is_active})
    return redirect(f"{PATH}/{kind.name}/{entity_id}?done={'reactivated' if is_active else 'deactivated'}")


@router.post(PATH + "/{type_name}/{entity_id:int}/delete", include_in_schema=False, dependencies=CSRF)
def delete(request: Request, ctx: ConsoleDep, type_name: str, entity_id: int) -> Response:
    tenant_id = tenant_of(ctx)
    kind = _kind(type_name)
    entity = crud.get_entity(ctx.platform, ctx.principal, tenant_id, kind.name, entity_id)
    try:
        crud.delete_entity(ctx.platform, ctx.principal, tenant_id, kind.name, entity_id)
    except Conflict as exc:
        if exc.code != "entity_in_use":
            raise
        referrers = show.referrers_named(ctx.platform, ctx.principal, tenant_id, exc.details)
        return _view(request, ctx, kind, entity, status=409, in_use=referrers)
    query = urlencode({"deleted": show.title_of(entity)}, quote_via=quote)
    return redirect(f"{PATH}/{kind.name}?{query}")
