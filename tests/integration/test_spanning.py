"""Writes over the directory and a region (``services.spanning.write_across``): claim first,
write second, settle or give back third; what a failure half-way leaves behind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection

from lifeboat.domain.access import SYSTEM
from lifeboat.domain.entities import ENTITY_TYPES, Entity, validate
from lifeboat.errors import Conflict, Unavailable
from lifeboat.services.spanning import write_across
from lifeboat.services.tenancy.tenants import create_tenant, list_tenants
from lifeboat.store.tables import now

TENANT_ID = 4242
PENDING = 0


def claim_name(uow) -> str:
    assert uow.logins.reserve("ann", TENANT_ID, PENDING)
    return "ann"


def give_name_back(uow, name: str) -> None:
    uow.logins.release(name, TENANT_ID, PENDING)


def insert_user(uow, name: str) -> Entity:
    stamp = now()
    fields = {"username": name, "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}
    data = validate(ENTITY_TYPES["users"], fields)
    user = Entity(uow.entities.new_ids()[0], TENANT_ID, "users", data, stamp, stamp)
    uow.entities.insert(user)
    return user


def stored_user(platform, name: str) -> Entity | None:
    with platform.region_unit("na1", write=False) as uow:
        return uow.entities.by_key(TENANT_ID, "users", name)


def owner_of(platform, name: str) -> tuple[int, int] | None:
    with platform.directory_unit(write=False) as uow:
        return uow.logins.lookup(name)


def test_a_write_that_succeeds_is_settled_on_what_the_region_holds(platform):
    def settle(uow, name: str, user: Entity) -> None:
        uow.logins.release(name, TENANT_ID, PENDING)
        uow.logins.reserve(name, TENANT_ID, user.id)

    user = write_across(platform, platform.region("na1"), claim=claim_name, write=insert_user,
                        give_back=give_name_back, settle=settle)
    assert stored_user(platform, "ann") == user
    assert owner_of(platform, "ann") == (TENANT_ID, user.id)


def test_a_region_write_failing_half_way_gives_the_claim_back(platform):
    def write_then_fail(uow, name: str) -> None:
        insert_user(uow, name)
        raise Conflict("refused after the insert", code="refused")

    with pytest.raises(Conflict):
        write_across(platform, platform.region("na1"), claim=claim_name, write=write_then_fail,
                     give_back=give_name_back)
    assert stored_user(platform, "ann") is None  # the region rolled back
    assert owner_of(platform, "ann") is None  # the claim was given back


def test_a_failed_give_back_leaves_a_stale_claim_and_raises_the_first_failure(platform, caplog):
    def write_then_fail(uow, name: str) -> None:
        raise Conflict("the region refused", code="refused")

    def directory_down(uow, name: str) -> None:
        raise Unavailable("The database of directory cannot be reached.", code="directory_unavailable")

    with caplog.at_level(logging.ERROR, logger="lifeboat.spanning"), pytest.raises(Conflict) as caught:
        write_across(platform, platform.region("na1"), claim=claim_name, write=write_then_fail,
                     give_back=directory_down)
    assert caught.value.code == "refused"  # what went wrong first, not the give-back's failure
    assert owner_of(platform, "ann") == (TENANT_ID, PENDING)  # a pending claim without its user: stale
    assert "giving back" in caplog.text


def test_creating_a_tenant_whose_business_unit_cannot_be_written_leaves_no_tenant(platform, monkeypatch):
    region = platform.region("na1")
    write = region.db.write

    @contextmanager
    def commit_fails() -> Iterator[Connection]:  # the region's commit fails after the directory's
        with write() as conn:
            yield conn
            raise Unavailable("The database of na1 cannot be reached.", code="region_unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(region.db, "write", commit_fails)
        with pytest.raises(Unavailable):
            create_tenant(platform, SYSTEM, "acme", "na1")
    assert list_tenants(platform, SYSTEM, limit=10, offset=0) == ([], 0)
    tenant = create_tenant(platform, SYSTEM, "acme", "na1")  # the name is free again
    with platform.region_unit("na1", write=False) as uow:
        units, _ = uow.entities.page(tenant.id, "business-unit", limit=5, offset=0)
    assert [e.tenant_id for e in units] == [tenant.id]
