"""Generic routes for every entity type of SPEC §2, built from ``ENTITY_TYPES``.

Each type gets its own paths and its own request schema in the API docs; the bodies are
validated by ``lifeboat.domain.entities.validate`` so that every error has a stable code.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from starlette.convertors import IntegerConvertor, register_url_convertor

from lifeboat.api.deps import CurrentPrincipal, PageDep, PlatformDep, page_of
from lifeboat.api.openapi import errors
from lifeboat.domain.entities import ENTITY_TYPES, EntityType, request_schema
from lifeboat.services.entities import crud, references
from lifeboat.views.entities import public_view

JsonBody = Annotated[Any, Body()]


def _body_doc(kind: EntityType, *, partial: bool) -> dict[str, Any]:
    schema = request_schema(kind, partial=partial)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _collection(router: APIRouter, kind: EntityType) -> None:
    base = f"/tenants/{{tenant_id}}/{kind.name}"
    tags: list[str | Enum] = [kind.name]  # FastAPI's own type: a tag may be an Enum

    @router.get(base, tags=tags, summary=f"List {kind.name}", name=f"list_{kind.name}")
    def list_(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, page: PageDep) -> dict[str, Any]:
        items, total = crud.list_entities(
            platform, principal, tenant_id, kind.name, limit=page.limit, offset=page.offset
        )
        return page_of([public_view(e) for e in items], total)

    @router.post(
        base,
        status_code=201,
        tags=tags,
        summary=f"Create one of {kind.name}",
        name=f"create_{kind.name}",
        responses=errors(409),
        openapi_extra=_body_doc(kind, partial=False),
    )
    def create(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: JsonBody) -> dict[str, Any]:
        return public_view(crud.create_entity(platform, principal, tenant_id, kind.name, payload))

    @router.get(base + "/{entity_id:signed_int}", tags=tags, summary=f"Get one of {kind.name}", name=f"get_{kind.name}")
    def get(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, entity_id: int) -> dict[str, Any]:
        entity = crud.get_entity(platform, principal, tenant_id, kind.name, entity_id)
        return public_view(entity, with_content=True)

    @router.patch(
        base + "/{entity_id:signed_int}",
        tags=tags,
        summary=f"Change some fields of one of {kind.name}",
        name=f"update_{kind.name}",
        responses=errors(409),
        openapi_extra=_body_doc(kind, partial=True),
    )
    def update(
        platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, entity_id: int, payload: JsonBody
    ) -> dict[str, Any]:
        return public_view(crud.update_entity(platform, principal, tenant_id, kind.name, entity_id, payload))

    @router.delete(
        base + "/{entity_id:signed_int}",
        status_code=204,
        tags=tags,
        summary=f"Delete one of {kind.name}",
        name=f"delete_{kind.name}",
        responses=errors(409),
    )
    def delete(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, entity_id: int) -> Response:
        crud.delete_entity(platform, principal, tenant_id, kind.name, entity_id)
        return Response(status_code=204)


def _singleton(router: APIRouter, kind: EntityType) -> None:
    base = f"/tenants/{{tenant_id}}/{kind.name}"
    tags: list[str | Enum] = [kind.name]  # FastAPI's own type: a tag may be an Enum

    @router.get(base, tags=tags, summary=f"Get the {kind.name}", name=f"get_{kind.name}")
    def get(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
        return public_view(crud.get_business_unit(platform, principal, tenant_id))

    @router.put(
        base,
        tags=tags,
        summary=f"Replace the {kind.name}",
        name=f"put_{kind.name}",
        responses=errors(409),
        openapi_extra=_body_doc(kind, partial=False),
    )
    def put(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: JsonBody) -> dict[str, Any]:
        entity = crud.update_entity(platform, principal, tenant_id, kind.name, None, payload, replace_all=True)
        return public_view(entity)


class SignedInt(IntegerConvertor):
    """An entity id in a path: any integer (one outside the id space is simply not found), so
    that a word such as ``users/bcp-types`` is another route, not an entity id."""

    regex = "-?[0-9]+"


def build_router() -> APIRouter:
    register_url_convertor("signed_int", SignedInt())
    router = APIRouter()
    for kind in ENTITY_TYPES.values():
        (_singleton if kind.singleton else _collection)(router, kind)
    router.add_api_route(
        "/tenants/{tenant_id}/scripts/{script_id}/references",
        script_references,
        methods=["GET"],
        tags=["scripts"],
        summary="Every id, name and path a Studio script refers to",
    )
    return router


def script_references(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, script_id: int, page: PageDep
) -> dict[str, Any]:
    items = references.script_references(platform, principal, tenant_id, script_id)
    return page_of(items[page.offset : page.offset + page.limit], len(items))
