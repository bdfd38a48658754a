"""Usernames are unique across tenants: the directory's login index says whose each one is.

A user lives in a region database and its username in the directory, so a write spans
two databases. The name is claimed first and given back if the region write fails; a
claim left behind by a crash is recognised (its user does not exist, and it is older than
``CLAIM_GRACE``) and taken over. A younger claim without its user is a write still running:
taking it over would let two tenants create the same username at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.entities import ENTITY_TYPES, Entity, EntityType
from lifeboat.errors import Conflict, Unavailable
from lifeboat.store.directory import LoginIndexRepo, OperatorRepo, Tenant, TenantRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now

PENDING = 0  # user id of a claim whose user is not written yet
# Longer than any write that holds a claim, a bulk load of a large tenant included.
CLAIM_GRACE = timedelta(minutes=15)


@contextmanager
def claimed(platform: Platform, tenant: Tenant, kind: EntityType, current: Entity | None,
            data: dict[str, Any]) -> Iterator[None]:
    """Hold the login name in ``data`` (the type's ``login_key``) for the duration of the
    write (no-op for a type without one)."""
    if kind.login_key is None:
        yield
        return
    new = data.get(kind.login_key)
    old = current.data.get(kind.login_key) if current is not None else None
    if new is None or new == old:
        yield
        return
    _claim(platform, tenant, new)
    try:
        yield
    except BaseException:
        _release(platform, new, tenant.id)
        raise
    _settle(platform, tenant, kind, new)
    if old is not None:
        _release(platform, old, tenant.id)


def release(platform: Platform, tenant: Tenant, user: Entity) -> None:
    login_key = user.kind.login_key
    if login_key is not None:
        _release(platform, user.data[login_key], tenant.id)


def _claim(platform: Platform, tenant: Tenant, username: str) -> None:
    with platform.directory.write() as conn:
        index = LoginIndexRepo(conn)
        if OperatorRepo(conn).by_name(username) is not None:
            raise _taken(username)
        if index.reserve(username, tenant.id, PENDING):
            return
        owner = index.lookup(username)
        if owner is None or owner_exists(platform, conn, username, *owner):
            raise _taken(username)
        index.release(username, *owner)
        index.reserve(username, tenant.id, PENDING)


def owner_exists(platform: Platform, conn, username: str, tenant_id: int, user_id: int) -> bool:  # noqa: ANN001
    """Whether a claim is alive: its user exists, or its write may still be running. Only
    a claim left by a crashed write (old, and without its user) may be taken over."""
    claimed = LoginIndexRepo(conn).claimed_at(username)
    if claimed is not None and now() - claimed < CLAIM_GRACE:
        return True
    owner_tenant = TenantRepo(conn).get(tenant_id)
    if owner_tenant is None:
        return False
    region = platform.region(owner_tenant.region)
    try:
        with region.db.read() as region_conn:
            repo = EntityRepo(region_conn, region.id_block)
            return any(repo.by_key(tenant_id, kind.name, username) is not None for kind in _login_types())
    except Unavailable:
        return True  # cannot tell: keep the name with its owner


def _settle(platform: Platform, tenant: Tenant, kind: EntityType, username: str) -> None:
    """Point the claim at the user that now exists (the login key is its natural key)."""
    region = platform.region(tenant.region)
    with region.db.read() as conn:
        user = EntityRepo(conn, region.id_block).by_key(tenant.id, kind.name, username)
    with platform.directory.write() as conn:
        index = LoginIndexRepo(conn)
        index.release(username, tenant.id, PENDING)
        if user is not None:
            index.reserve(username, tenant.id, user.id)


def _login_types() -> list[EntityType]:
    """The types whose entities hold a login name (users)."""
    return [kind for kind in ENTITY_TYPES.values() if kind.login_key is not None]


def _release(platform: Platform, username: str, tenant_id: int) -> None:
    with platform.directory.write() as conn:
        index = LoginIndexRepo(conn)
        owner = index.lookup(username)
        if owner is not None and owner[0] == tenant_id:
            index.release(username, *owner)


def _taken(username: str) -> Conflict:
    return Conflict(f"The username {username!r} is taken.", code="username_taken", details={"username": username})
