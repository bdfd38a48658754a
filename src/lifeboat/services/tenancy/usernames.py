"""Usernames are unique across tenants: the directory's login index says whose each one is.

A user lives in a region database and its username in the directory, so a write spans
two databases: ``services.spanning.write_across``. The name is claimed first (a pending
claim), the user written second, and the claim settled on the user or given back third.
A claim left behind by a crash is recognised (its user does not exist, and it is older than
``CLAIM_GRACE``) and taken over. A younger claim without its user is a write still running:
taking it over would let two tenants create the same username at once.

One user: ``write_claiming``. Many at once (``entities.bulk``): ``claim_many`` and
``give_back_many`` as ``write_across``'s claim and give-back; their users' ids are known
before the write, so their claims need no settling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from lifeboat.bootstrap import Platform
from lifeboat.domain.entities import ENTITY_TYPES, Entity, EntityType
from lifeboat.domain.records import Tenant
from lifeboat.errors import Conflict, Unavailable
from lifeboat.services.spanning import write_across
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit, RegionUnit

PENDING = 0  # user id of a claim whose user is not written yet
# Longer than any write that holds a claim, a bulk load of a large tenant included.
CLAIM_GRACE = timedelta(minutes=15)

R = TypeVar("R")


@dataclass(frozen=True)
class NameChange:
    """A write that gives an entity a new login name (``old`` is the one it gives up)."""

    tenant: Tenant
    kind: EntityType
    new: str
    old: str | None


def name_change(tenant: Tenant, kind: EntityType, current: Entity | None, data: dict[str, Any]) -> NameChange | None:
    """What a write of ``data`` over ``current`` does to the login index (None: nothing)."""
    if kind.login_key is None:
        return None
    new = data.get(kind.login_key)
    old = current.data.get(kind.login_key) if current is not None else None
    return None if new is None or new == old else NameChange(tenant, kind, new, old)


def write_claiming(
    platform: Platform,
    tenant: Tenant,
    kind: EntityType,
    current: Entity | None,
    data: dict[str, Any],
    write: Callable[[RegionUnit], R],
) -> R:
    """Run ``write`` in one unit of the tenant's region, holding the login name in ``data``
    (the type's ``login_key``) while it runs: claimed before, settled on the user after, given
    back if the write fails. A write that changes no login name is just the region unit."""
    change = name_change(tenant, kind, current, data)
    if change is None:
        with platform.region_unit(tenant.region) as uow:
            return write(uow)

    def claim(uow: DirectoryUnit) -> NameChange:
        _claim(platform, uow, change)
        return change

    def write_user(uow: RegionUnit, change: NameChange) -> tuple[R, int | None]:
        result = write(uow)  # the user's id is read in the same transaction that wrote it
        return result, _user_id(uow, change)

    def settle(uow: DirectoryUnit, change: NameChange, written: tuple[R, int | None]) -> None:
        _settle(uow, change, written[1])

    result, _ = write_across(
        platform, platform.region(tenant.region), claim=claim, write=write_user, give_back=_give_back, settle=settle
    )
    return result


def release(platform: Platform, tenant: Tenant, user: Entity) -> None:
    """Free the login name of a user just deleted."""
    login_key = user.kind.login_key
    if login_key is not None:
        with platform.directory_unit() as uow:
            _release(uow, user.data[login_key], tenant.id)


def _claim(platform: Platform, uow: DirectoryUnit, change: NameChange) -> None:
    username, index = change.new, uow.logins
    if uow.operators.by_name(username) is not None:
        raise _taken(username)
    if index.reserve(username, change.tenant.id, PENDING):
        return
    owner = index.lookup(username)
    if owner is None or owner_exists(platform, uow, username, *owner):
        raise _taken(username)
    index.release(username, *owner)  # left behind by a crashed write: take it over
    index.reserve(username, change.tenant.id, PENDING)


def _user_id(uow: RegionUnit, change: NameChange) -> int | None:
    """The id of the entity that now holds the name (the login key is its natural key)."""
    user = uow.entities.by_key(change.tenant.id, change.kind.name, change.new)
    return user.id if user is not None else None


def _settle(uow: DirectoryUnit, change: NameChange, user_id: int | None) -> None:
    """Point the claim at the user that now exists, and free the name it gave up."""
    uow.logins.release(change.new, change.tenant.id, PENDING)
    if user_id is not None:
        uow.logins.reserve(change.new, change.tenant.id, user_id)
    if change.old is not None:
        _release(uow, change.old, change.tenant.id)


def _give_back(uow: DirectoryUnit, change: NameChange) -> None:
    _release(uow, change.new, change.tenant.id)


def _release(uow: DirectoryUnit, username: str, tenant_id: int) -> None:
    owner = uow.logins.lookup(username)
    if owner is not None and owner[0] == tenant_id:
        uow.logins.release(username, *owner)


def owner_exists(platform: Platform, uow: DirectoryUnit, username: str, tenant_id: int, user_id: int) -> bool:
    """Whether a claim is alive: its user exists, or its write may still be running. Only
    a claim left by a crashed write (old, and without its user) may be taken over."""
    claimed_at = uow.logins.claimed_at(username)
    if claimed_at is not None and now() - claimed_at < CLAIM_GRACE:
        return True
    owner_tenant = uow.tenants.get(tenant_id)
    if owner_tenant is None:
        return False
    try:
        with platform.region_unit(owner_tenant.region, write=False) as region_uow:
            return any(
                region_uow.entities.by_key(tenant_id, kind.name, username) is not None for kind in _login_types()
            )
    except Unavailable:
        return True  # cannot tell: keep the name with its owner


def _login_types() -> list[EntityType]:
    """The types whose entities hold a login name (users)."""
    return [kind for kind in ENTITY_TYPES.values() if kind.login_key is not None]


def claim_many(
    platform: Platform, uow: DirectoryUnit, tenant: Tenant, user_ids: Mapping[str, int], *, shown: int
) -> None:
    """Claim every name of ``user_ids`` (username -> id of the user about to be written) for
    ``tenant``, or none: ``username_taken`` lists at most ``shown`` of those taken. Stale
    claims are taken over, as for one user."""
    if not user_ids:
        return
    taken = uow.operators.names_among(user_ids)
    for name, owner in uow.logins.owners(user_ids).items():
        if owner_exists(platform, uow, name, *owner):
            taken.add(name)
        else:
            uow.logins.release(name, *owner)  # left behind by a crashed write: take it over
    if taken:
        names = sorted(taken)
        raise Conflict(
            f"{len(names)} usernames are taken, e.g. {names[0]!r}.",
            code="username_taken",
            details={"usernames": names[:shown]},
        )
    try:
        uow.logins.reserve_many(tenant.id, user_ids)
    except IntegrityError:
        raise Conflict(
            "A username was claimed by another writer during the load; load again.", code="username_taken"
        ) from None


def give_back_many(uow: DirectoryUnit, tenant: Tenant, user_ids: Mapping[str, int]) -> None:
    """Free the claims of ``claim_many`` after the users could not be written."""
    for name, user_id in user_ids.items():
        uow.logins.release(name, tenant.id, user_id)


def _taken(username: str) -> Conflict:
    return Conflict(f"The username {username!r} is taken.", code="username_taken", details={"username": username})
