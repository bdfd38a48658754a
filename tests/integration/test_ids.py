"""The id rule (SPEC §1): ids unique across regions and tenants, below 2**53, even on a
fresh install — each region hands out ids from its own block (lifeboat.ids)."""

from __future__ import annotations

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.ids import DIRECTORY_BLOCK, block_of
from tests.examples import new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

MAX_SAFE = 2**53


@pytest.fixture
def tenants(shared_api):
    """One tenant in na1, one in eu1, on a platform shared by this module."""
    return new_tenant(shared_api, tenant_name("North"), "na1"), new_tenant(shared_api, tenant_name("Europe"), "eu1")


def test_on_a_fresh_install_a_skill_in_each_regions_tenant_gets_a_different_id(api):
    north, europe = new_tenant(api, "North", "na1"), new_tenant(api, "Europe", "eu1")

    ids = [north.create("skills", name="Billing")["id"], europe.create("skills", name="Billing")["id"]]

    assert ids[0] != ids[1]
    assert all(0 < i < MAX_SAFE for i in ids)


def test_the_ids_of_each_region_come_from_its_own_block(shared_platform, tenants):
    north, europe = tenants

    north_ids = [north.create("dispositions")["id"] for _ in range(3)]
    europe_ids = [europe.create("dispositions")["id"] for _ in range(3)]

    assert {block_of(i) for i in north_ids} == {shared_platform.region("na1").id_block}
    assert {block_of(i) for i in europe_ids} == {shared_platform.region("eu1").id_block}
    assert shared_platform.region("na1").id_block != shared_platform.region("eu1").id_block


def test_tenant_ids_come_from_the_directory_block_and_never_equal_an_entity_id(tenants):
    north, europe = tenants
    skill = north.create("skills")

    assert {block_of(north.id), block_of(europe.id)} == {DIRECTORY_BLOCK}
    assert north.id != europe.id
    assert skill["id"] not in (north.id, europe.id)


def test_every_entity_of_every_type_in_both_regions_has_its_own_safe_id(tenants):
    ids = []
    for tenant in tenants:
        for type_name, kind in ENTITY_TYPES.items():
            if not kind.singleton:
                tenant.create(type_name)  # with the entities it refers to
        ids.append(tenant.get("business-unit").json()["id"])
        ids.extend(
            e["id"] for t, kind in ENTITY_TYPES.items() if not kind.singleton for e in tenant.get(t).json()["items"]
        )

    assert len(ids) > 2 * len(ENTITY_TYPES)
    assert len(set(ids)) == len(ids)
    assert all(isinstance(i, int) and 0 < i < MAX_SAFE for i in ids)


def test_ids_keep_growing_after_a_delete(tenants):
    north, _ = tenants
    first = north.create("dispositions")
    north.delete("dispositions", first["id"])

    second = north.create("dispositions")

    assert second["id"] > first["id"]


def test_a_write_refused_inside_its_transaction_gives_its_id_back(tenants):
    north, _ = tenants
    before = north.create("dispositions", name="Resolved")["id"]
    assert north.post("dispositions", {"name": "Resolved"}).status_code == 409

    after = north.create("dispositions")["id"]

    assert after == before + 1
