"""Writes over the directory and a region (``services.spanning.write_across``): claim first,
write second, settle or give back third; what a failure half-way leaves behind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Connection

from lifeboat.domain.access import SYSTEM
from lifeboat.domain.entities import ENTITY_TYPES, Entity, validate
from lifeboat.errors import Conflict, Unavailable
from lifeboat.services.spanning import write_across
from lifeboat.services.tenancy import usernames
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

    user = write_across(
        platform, platform.region("na1"), claim=claim_name, write=insert_user, give_back=give_name_back, settle=settle
    )
    assert stored_user(platform, "ann") == user
    assert owner_of(platform, "ann") == (TENANT_ID, user.id)


def test_a_region_write_failing_half_way_gives_the_claim_back(platform):
    def write_then_fail(uow, name: str) -> None:
        insert_user(uow, name)
        raise Conflict("refused after the insert", code="refused")

    with pytest.raises(Conflict):
        write_across(
            platform, platform.region("na1"), claim=claim_name, write=write_then_fail, give_back=give_name_back
        )
    assert stored_user(platform, "ann") is None  # the region rolled back
    assert owner_of(platform, "ann") is None  # the claim was given back


def test_a_failed_give_back_leaves_a_stale_claim_and_raises_the_first_failure(platform, caplog):
    def write_then_fail(uow, name: str) -> None:
        raise Conflict("the region refused", code="refused")

    def directory_down(uow, name: str) -> None:
        raise Unavailable("The database of directory cannot be reached.", code="directory_unavailable")

    with caplog.at_level(logging.ERROR, logger="lifeboat.spanning"), pytest.raises(Conflict) as caught:
        write_across(
            platform, platform.region("na1"), claim=claim_name, write=write_then_fail, give_back=directory_down
        )
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


# --------------------------------------------------------------------------- usernames through write_across


def users_of(platform, tenant) -> list[str]:
    with platform.region_unit(tenant.region, write=False) as uow:
        found, _ = uow.entities.page(tenant.id, "users", limit=10, offset=0)
    return [u.data["username"] for u in found]


def write_user(tenant, name: str, current: Entity | None, *, fail: bool = False):
    """A ``write`` for ``usernames.write_claiming``: the user ``name`` in ``tenant`` (``current`` renamed)."""

    def write(uow) -> Entity:
        stamp = now()
        fields = {"username": name, "email": f"{name}@example.com", "first_name": "Ann", "last_name": "Lee"}
        data = validate(ENTITY_TYPES["users"], fields)
        if current is not None:
            user = replace(current, data=data, updated_at=stamp)
            uow.entities.update(user)
        else:
            user = Entity(uow.entities.new_ids()[0], tenant.id, "users", data, stamp, stamp)
            uow.entities.insert(user)
        if fail:
            raise Conflict("refused after the insert", code="refused")
        return user

    return write


def claiming(platform, tenant, name: str, *, current: Entity | None = None, fail: bool = False) -> Entity:
    users = ENTITY_TYPES["users"]
    return usernames.write_claiming(
        platform, tenant, users, current, {"username": name}, write_user(tenant, name, current, fail=fail)
    )


@pytest.fixture
def two_tenants(platform):
    return create_tenant(platform, SYSTEM, "acme", "na1"), create_tenant(platform, SYSTEM, "globex", "na1")


def test_a_claimed_username_is_settled_on_its_user_and_a_rename_frees_the_old_name(platform, two_tenants):
    acme, globex = two_tenants
    ann = claiming(platform, acme, "ann")
    assert owner_of(platform, "ann") == (acme.id, ann.id)

    renamed = claiming(platform, acme, "anne", current=ann)
    assert owner_of(platform, "anne") == (acme.id, renamed.id)
    assert owner_of(platform, "ann") is None  # given up by the rename: free for anyone
    assert users_of(platform, acme) == ["anne"]
    assert claiming(platform, globex, "ann").tenant_id == globex.id


def test_a_username_whose_user_cannot_be_written_is_given_back(platform, two_tenants):
    acme, globex = two_tenants
    with pytest.raises(Conflict):
        claiming(platform, acme, "ann", fail=True)
    assert owner_of(platform, "ann") is None
    assert users_of(platform, acme) == []
    assert claiming(platform, globex, "ann").tenant_id == globex.id


def test_a_username_held_by_a_user_is_refused_to_another_tenant(platform, two_tenants):
    acme, globex = two_tenants
    ann = claiming(platform, acme, "ann")
    with pytest.raises(Conflict) as caught:
        claiming(platform, globex, "ann")
    assert caught.value.code == "username_taken"
    assert owner_of(platform, "ann") == (acme.id, ann.id)


def after_claim_grace(monkeypatch) -> None:
    later = now() + usernames.CLAIM_GRACE + timedelta(minutes=1)
    monkeypatch.setattr(usernames, "now", lambda: later)


def test_a_stale_claim_is_taken_over_after_claim_grace(platform, two_tenants, monkeypatch, caplog):
    acme, globex = two_tenants

    def directory_down(uow, change) -> None:
        raise Unavailable("The database of directory cannot be reached.", code="directory_unavailable")

    with monkeypatch.context() as patched, caplog.at_level(logging.ERROR, logger="lifeboat.spanning"):
        patched.setattr(usernames, "_give_back", directory_down)
        with pytest.raises(Conflict):
            claiming(platform, acme, "ann", fail=True)
    assert owner_of(platform, "ann") == (acme.id, usernames.PENDING)  # stale: no user behind it

    with pytest.raises(Conflict) as young:  # within the grace it may be a write still running
        claiming(platform, globex, "ann")
    assert young.value.code == "username_taken"

    after_claim_grace(monkeypatch)
    ann = claiming(platform, globex, "ann")
    assert owner_of(platform, "ann") == (globex.id, ann.id)
    assert users_of(platform, acme) == [] and users_of(platform, globex) == ["ann"]


def claim_all(platform, tenant, user_ids: dict[str, int]) -> None:
    """What a bulk load does: claim every name, write, give all back on failure."""

    def refuse(uow, claimed) -> None:
        raise Conflict("refused", code="refused")

    write_across(
        platform,
        platform.region(tenant.region),
        claim=lambda uow: usernames.claim_many(platform, uow, tenant, user_ids, shown=1),
        write=refuse,
        give_back=lambda uow, claimed: usernames.give_back_many(uow, tenant, user_ids),
    )


def test_many_usernames_are_claimed_all_or_none_and_given_back_together(platform, two_tenants):
    acme, globex = two_tenants
    claiming(platform, acme, "ann")
    with pytest.raises(Conflict) as caught:
        claim_all(platform, globex, {"ann": 901, "bob": 902, "cid": 903})
    assert caught.value.code == "username_taken"
    assert caught.value.details == {"usernames": ["ann"]}
    assert owner_of(platform, "bob") is None  # none claimed

    with pytest.raises(Conflict) as refused:
        claim_all(platform, globex, {"bob": 902, "cid": 903})
    assert refused.value.code == "refused"  # claimed, then the write failed
    assert owner_of(platform, "bob") is None and owner_of(platform, "cid") is None  # given back


def test_many_usernames_take_over_stale_claims_after_claim_grace(platform, two_tenants, monkeypatch):
    acme, globex = two_tenants
    with platform.directory_unit() as uow:  # a bulk load that crashed after its claim
        usernames.claim_many(platform, uow, acme, {"bob": 801}, shown=10)
    with platform.directory_unit() as uow, pytest.raises(Conflict):
        usernames.claim_many(platform, uow, globex, {"bob": 902}, shown=10)

    after_claim_grace(monkeypatch)
    with platform.directory_unit() as uow:
        usernames.claim_many(platform, uow, globex, {"bob": 902}, shown=10)
    assert owner_of(platform, "bob") == (globex.id, 902)
