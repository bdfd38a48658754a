"""Tenant isolation: a user of tenant A learns nothing about tenant B, on any route.

The route tests walk ``app.routes``: every route with ``{tenant_id}`` in its path is tried,
so a route added later is covered without anyone remembering to add it here.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from lifeboat.domain.entities import ENTITY_TYPES, PERMISSIONS
from tests.examples import TenantApi, error_of, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

COLLECTIONS = [name for name, kind in ENTITY_TYPES.items() if not kind.singleton]
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")  # "{name}" or "{name:convertor}"


# Module-scoped: the tests only read tenant B, or check that it did not change.
@pytest.fixture(scope="module")
def tenant_a(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Tenant A"))


@pytest.fixture(scope="module")
def tenant_b(shared_api) -> TenantApi:
    """Tenant B, in the other region, with one entity of every type."""
    b = new_tenant(shared_api, tenant_name("Tenant B"), "eu1")
    b.entities = {type_name: b.create(type_name) for type_name in COLLECTIONS}
    return b


@pytest.fixture(scope="module")
def user_a(tenant_a) -> TenantApi:
    """A user of tenant A who holds every permission there is."""
    return tenant_a.as_user(*PERMISSIONS)


def tenant_routes(app) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every API route with ``{tenant_id}``, however nested
    the routers that hold them (``app.routes`` lists included routers, not their routes)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and "{tenant_id}" in (context.path or ""):
            found.extend((method, context.path, route) for method in context.methods if method != "HEAD")
    return sorted(found, key=lambda r: (r[1], r[0]))


def concrete_path(path: str, tenant_id: int, entities: dict[str, dict]) -> str:
    """The path with the tenant's id and, for each other id, the id of one of ``entities`` of
    the type named just before it (``/skills/{entity_id}`` -> a skill)."""

    def fill(match: re.Match) -> str:
        if match.group(1) == "tenant_id":
            return str(tenant_id)
        before = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        entity = entities.get(before) or next(iter(entities.values()))
        return str(entity["id"])

    return PARAM.sub(fill, path)


def minimal_body(route: APIRoute, b: TenantApi) -> Any:
    """A body that passes the route's own schema, so that only the tenant check can stop it."""
    field = route.body_field
    model = field.field_info.annotation if field is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {}
    values = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            values[name] = _sample(info.annotation, b)
    return values


def _sample(annotation: Any, b: TenantApi) -> Any:
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union,) else (annotation,)
    kind = next((o for o in options if o is not type(None)), str)
    origin = typing.get_origin(kind) or kind
    return {int: b.id, bool: True, float: 1.0, list: [], dict: {}}.get(origin, "x")


# --- every route of tenant B --------------------------------------------------------------


def test_a_user_of_tenant_a_gets_tenant_not_found_on_every_route_of_tenant_b(shared_api, user_a, tenant_b):
    """Operator-only routes may refuse first with 403 operator_required, as long as they say the
    same for the user's own tenant: the answer then tells nothing about tenant B."""
    routes = tenant_routes(shared_api.client.app)
    expected = {
        "error": {
            "code": "tenant_not_found",
            "message": f"Tenant {tenant_b.id} does not exist.",
            "details": {"tenant_id": tenant_b.id},
        }
    }
    leaks = []

    for method, path, route in routes:
        response = call(shared_api, method, path, route, tenant_b, user_a.headers)
        if response.status_code == 403 and error_code(response) == "operator_required":
            own = call(shared_api, method, path, route, user_a, user_a.headers, entities=tenant_b.entities)
            if (own.status_code, error_code(own)) == (403, "operator_required"):
                continue
        if response.status_code != 404 or response.json() != expected:
            leaks.append(f"{method} {path}: {response.status_code} {response.text[:200]}")

    assert not leaks, "\n".join(leaks)
    assert {path for _, path, _ in routes} >= {f"/api/v1/tenants/{{tenant_id}}/{t}" for t in ENTITY_TYPES}


def call(api, method: str, path: str, route: APIRoute, tenant: TenantApi, headers: dict, entities: dict | None = None):
    url = concrete_path(path, tenant.id, entities or tenant.entities)
    body = minimal_body(route, tenant) if method in ("POST", "PUT", "PATCH") else None
    return api.request(method, url, json=body, headers=headers)


def error_code(response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def test_the_answer_for_another_tenant_is_the_same_as_for_no_tenant_at_all(shared_api, user_a, tenant_b):
    other = shared_api.get(f"/api/v1/tenants/{tenant_b.id}/skills", headers=user_a.headers)
    missing = shared_api.get("/api/v1/tenants/987654321/skills", headers=user_a.headers)

    assert other.status_code == missing.status_code == 404
    assert error_of(other)["code"] == error_of(missing)["code"] == "tenant_not_found"
    assert error_of(other)["message"].replace(str(tenant_b.id), "T") == error_of(missing)["message"].replace(
        "987654321", "T"
    )


def test_tenant_b_is_unchanged_after_tenant_a_tried_every_route(shared_api, user_a, tenant_b):
    before = {t: tenant_b.get(t).json() for t in ENTITY_TYPES}
    for method, path, route in tenant_routes(shared_api.client.app):
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            call(shared_api, method, path, route, tenant_b, user_a.headers)

    assert {t: tenant_b.get(t).json() for t in ENTITY_TYPES} == before


# --- B's ids through A's own tenant --------------------------------------------------------------


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_an_entity_of_tenant_b_is_not_found_through_tenant_a(user_a, tenant_b, type_name):
    theirs = tenant_b.entities[type_name]

    answers = [
        user_a.get(type_name, theirs["id"]),
        user_a.patch(type_name, theirs["id"], {"is_active": False}),
        user_a.delete(type_name, theirs["id"]),
    ]

    for response in answers:
        assert response.status_code == 404
        assert error_of(response)["code"] == "entity_not_found"
    assert tenant_b.get(type_name, theirs["id"]).status_code == 200
    kept = tenant_b.get(type_name, theirs["id"]).json()
    assert {k: v for k, v in kept.items() if k != "content" or type_name != "files"} == theirs


def test_a_script_of_tenant_b_has_no_references_through_tenant_a(user_a, tenant_b):
    script_id = tenant_b.entities["scripts"]["id"]

    response = user_a.api.get(f"/api/v1/tenants/{user_a.id}/scripts/{script_id}/references", headers=user_a.headers)

    assert response.status_code == 404
    assert error_of(response)["code"] == "entity_not_found"


@pytest.mark.parametrize("type_name", COLLECTIONS)
def test_lists_show_only_the_tenants_own_entities(user_a, tenant_b, type_name):
    ours = user_a.create(type_name)

    listing = user_a.get(type_name).json()

    ids = {e["id"] for e in listing["items"]}
    assert ours["id"] in ids
    assert tenant_b.entities[type_name]["id"] not in ids


def test_the_audit_log_of_tenant_a_holds_nothing_of_tenant_b(user_a, tenant_b):
    user_a.create("skills", name="Ours")

    entries = user_a.api.get(f"/api/v1/tenants/{user_a.id}/audit?limit=1000", headers=user_a.headers).json()["items"]

    assert entries
    b_ids = {e["id"] for e in tenant_b.entities.values()}
    assert not [e for e in entries if e["entity_id"] in b_ids]
    assert tenant_b.tenant["name"] not in str(entries)


def test_an_operator_enters_every_tenant(shared_api, tenant_a, tenant_b):
    operator = shared_api.operator()

    for tenant in (tenant_a, tenant_b):
        assert shared_api.get(f"/api/v1/tenants/{tenant.id}/skills", headers=operator).status_code == 200
