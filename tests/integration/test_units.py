"""The units of work handed out by the Platform, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from lifeboat.errors import NotFound


def test_a_committed_directory_unit_is_seen_by_the_next_and_its_effect_reads_it(platform):
    seen: list[object] = []

    def read_back() -> None:
        with platform.directory_unit(write=False) as uow:
            seen.append(uow.tenants.by_name("acme"))

    with platform.directory_unit() as uow:
        tenant = uow.tenants.create("acme", "na1")
        uow.audit("ops", "tenant.create", tenant_id=tenant.id)
        uow.after_commit(read_back)
    assert seen == [tenant]
    with platform.directory_unit(write=False) as uow:
        assert [r["action"] for r in uow.audit_log.page(tenant.id, limit=5, offset=0)[0]] == ["tenant.create"]


def test_a_region_unit_rolls_back_its_writes_and_drops_its_effects(platform):
    seen: list[str] = []
    with pytest.raises(RuntimeError), platform.region_unit("eu1") as uow:
        uow.audit("ops", "x.create", tenant_id=7)
        uow.after_commit(lambda: seen.append("ran"))
        raise RuntimeError("half-way")
    with platform.region_unit(platform.region("eu1"), write=False, snapshot=True) as uow:
        assert uow.region.name == "eu1"
        assert uow.audit_log.page(7, limit=5, offset=0) == ([], 0)
    assert seen == []


def test_a_region_unit_for_an_unknown_region_is_region_not_found(platform):
    with pytest.raises(NotFound) as caught:
        platform.region_unit("mars")
    assert caught.value.code == "region_not_found"
