"""An entity type registered in this test alone (``queues``: ACD, natural key ``name``, a
link to a skill, a check and a sync scope of its own) gets CRUD over the API, validation,
a place in the write order, bulk loading and sync, on SQLite and PostgreSQL, without a
line of code outside the table.

This is the proof that each type is described once (``domain.entities.ENTITY_TYPES``):
nothing else names a type to decide how it is stored, checked, ordered or copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.domain import fields as f
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, EntityType, Field, Link
from lifeboat.domain.graph import type_order, write_groups, write_order
from lifeboat.domain.records import Row
from lifeboat.jobs import work_once
from lifeboat.services.entities.bulk import Ref, load_entities
from lifeboat.services.tenancy.tenants import create_tenant
from lifeboat.store.region import EntityRepo
from tests.conftest import Api
from tests.sync_fixture import Http, correlation_map, enable_sync, entity_url, error_code, get_run, new_tenant, pair

OPS = Principal("operator", 0, "test")


def no_default_name(data: dict[str, Any]) -> list[dict[str, str]]:
    """A rule of the made-up type: "default" is reserved."""
    if str(data.get("name", "")).lower() == "default":
        return [{"field": "name", "code": "reserved_name", "message": "'default' is reserved"}]
    return []


def not_local(row: Row) -> bool:
    """Another: queues named "Local ..." stay in the primary tenant."""
    return not row.natural_key.startswith("Local ")


QUEUES = EntityType(
    "queues",
    "ACD",
    "acd",
    natural_key=("name",),
    fields=(
        Field("name", f.text(), required=True),
        Field("skill_id", f.reference()),
        Field("is_active", f.boolean(), default=True),
    ),
    links=(Link("skill_id", "skills"),),
    check=no_default_name,
    sync_scope=not_local,
)


def _forget_the_order() -> None:
    write_order.cache_clear()
    write_groups.cache_clear()


@pytest.fixture
def queues() -> Iterator[EntityType]:
    """``queues`` in the table for one test; the cached write order is rebuilt around it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(ENTITY_TYPES, QUEUES.name, QUEUES)
        _forget_the_order()
        yield QUEUES
    _forget_the_order()


@pytest.fixture
def ops(queues, platform) -> Iterator[Http]:
    """An operator on an app built once ``queues`` is registered (routes come from the table)."""
    with TestClient(create_app(platform)) as client:
        api = Api(client)
        yield Http(api, api.operator())


def skill(ops: Http, tenant_id: int, name: str) -> int:
    return ops.call("POST", entity_url(tenant_id, "skills"), json={"name": name}, expect=201)["id"]


def queue(ops: Http, tenant_id: int, **payload: Any) -> dict[str, Any]:
    return ops.call("POST", entity_url(tenant_id, "queues"), json=payload, expect=201)


def test_the_made_up_type_comes_after_the_skills_it_names(queues):
    order = type_order()
    assert order.index("skills") < order.index("queues")
    assert (queues.name,) in write_groups()


def test_a_queue_is_created_read_changed_listed_and_deleted_over_the_api(ops):
    tenant = new_tenant(ops, "na1")
    billing, sales = skill(ops, tenant["id"], "Billing"), skill(ops, tenant["id"], "Sales")
    made = queue(ops, tenant["id"], name="Billing queue", skill_id=billing)
    assert (made["name"], made["skill_id"], made["is_active"]) == ("Billing queue", billing, True)
    url = entity_url(tenant["id"], "queues", made["id"])
    assert ops.get(url)["skill_id"] == billing
    changed = ops.call("PATCH", url, json={"skill_id": sales, "is_active": False})
    assert (changed["skill_id"], changed["is_active"]) == (sales, False)
    assert [q["id"] for q in ops.get(entity_url(tenant["id"], "queues"))["items"]] == [made["id"]]
    ops.call("DELETE", url, expect=204)
    assert error_code(ops.request("GET", url)) == "entity_not_found"
    assert "/api/v1/tenants/{tenant_id}/queues" in ops.get("/openapi.json")["paths"]


def test_a_queue_is_validated_like_any_entity(ops):
    tenant = new_tenant(ops, "na1")
    disposition = ops.call("POST", entity_url(tenant["id"], "dispositions"), json={"name": "Done"}, expect=201)
    for bad in (999_999_999, disposition["id"]):  # nothing, and an entity of another type
        response = ops.request("POST", entity_url(tenant["id"], "queues"), json={"name": "Q", "skill_id": bad})
        assert response.status_code == 422, response.text
        assert [(e["field"], e["code"]) for e in response.json()["error"]["details"]["errors"]] == [
            ("skill_id", "unknown_reference")
        ]
    missing = ops.request("POST", entity_url(tenant["id"], "queues"), json={"skill_id": None, "colour": "red"})
    assert missing.status_code == 422
    assert sorted((e["field"], e["code"]) for e in missing.json()["error"]["details"]["errors"]) == [
        ("colour", "unknown_field"),
        ("name", "required"),
    ]
    reserved = ops.request("POST", entity_url(tenant["id"], "queues"), json={"name": "Default"})
    assert reserved.status_code == 422
    assert [(e["field"], e["code"]) for e in reserved.json()["error"]["details"]["errors"]] == [
        ("name", "reserved_name")
    ]
    queue(ops, tenant["id"], name="Q")
    twice = ops.request("POST", entity_url(tenant["id"], "queues"), json={"name": "Q"})
    assert (twice.status_code, error_code(twice)) == (409, "duplicate_natural_key")


def test_a_skill_a_queue_names_cannot_be_deleted_before_the_queue(ops):
    tenant = new_tenant(ops, "na1")
    billing = skill(ops, tenant["id"], "Billing")
    made = queue(ops, tenant["id"], name="Billing queue", skill_id=billing)
    response = ops.request("DELETE", entity_url(tenant["id"], "skills", billing))
    assert (response.status_code, error_code(response)) == (409, "entity_in_use")
    assert response.json()["error"]["details"]["referenced_by"] == [{"type": "queues", "id": made["id"]}]


def test_a_sync_run_copies_a_queue_with_its_skill_remapped(ops, platform):
    primary, bcp = new_tenant(ops, "na1"), new_tenant(ops, "eu1")
    billing = skill(ops, primary["id"], "Billing")
    made = queue(ops, primary["id"], name="Billing queue", skill_id=billing)
    local = queue(ops, primary["id"], name="Local overflow", skill_id=billing)
    pair(ops, primary["id"], bcp["id"])
    first = enable_sync(ops, primary["id"])
    assert work_once(platform) is not None
    run = get_run(ops, primary["id"], first["id"])
    assert run["status"] == "succeeded", run
    assert run["counts"]["queues"]["created"] == 1
    corr = correlation_map(ops, primary["id"])
    copy = ops.get(entity_url(bcp["id"], "queues", corr[("queues", made["id"])]))
    assert copy["name"] == "Billing queue"
    assert copy["skill_id"] == corr[("skills", billing)] != billing
    assert ("queues", local["id"]) not in corr  # outside the type's sync scope
    assert [q["name"] for q in ops.get(entity_url(bcp["id"], "queues"))["items"]] == ["Billing queue"]


def test_a_bulk_load_gives_a_queue_the_id_of_the_skill_drafted_beside_it(queues, platform):
    tenant = create_tenant(platform, OPS, "Bulk queues", "na1")
    result = load_entities(
        platform,
        OPS,
        tenant.id,
        [
            ("queues", "queue:billing", {"name": "Billing queue", "skill_id": Ref("skill:billing")}),
            ("skills", "skill:billing", {"name": "Billing"}),
        ],
    )
    assert result.counts["queues"].created == 1
    region = platform.region(tenant.region)
    with region.db.read() as conn:
        stored = EntityRepo(conn, region.id_block).get(tenant.id, "queues", result.ids["queue:billing"])
    assert stored.data["skill_id"] == result.ids["skill:billing"]


def test_nothing_of_the_made_up_type_is_left_once_its_tests_are_over():
    assert "queues" not in ENTITY_TYPES
    assert "queues" not in type_order()
