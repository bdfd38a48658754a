"""Load many entities into one tenant at once (the demo contact center, the benchmark).

``load_entities(platform, principal, tenant_id, drafts)`` takes drafts ``(type, local key,
payload)`` whose payloads may name each other with ``Ref("role:admin")`` (see
``services.entities.drafts``). Drafts whose natural key exists already in the tenant are skipped, so
loading the same drafts twice adds nothing. Everything new is written in ONE transaction of
the tenant's region, with its audit records: the whole load is there, or none of it. When
any draft is invalid nothing is written and ``Invalid`` lists every problem.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, Entity
from lifeboat.errors import Conflict, Forbidden
from lifeboat.services.entities.crud import audit_view
from lifeboat.services.entities.drafts import MAX_REPORTED_ERRORS, Draft, Ref, TypeCounts, batch_drafts, check_drafts
from lifeboat.services.entities.escalation import guard_new
from lifeboat.services.tenancy import usernames
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.audit import AuditRepo
from lifeboat.store.directory import LoginIndexRepo, OperatorRepo, Tenant
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import region_audit

__all__ = ["Draft", "LoadResult", "Ref", "TypeCounts", "load_entities"]

BATCH_SIZE = 1000


@dataclass
class LoadResult:
    tenant_id: int
    counts: dict[str, TypeCounts]
    ids: dict[str, int]  # every draft's local key -> id of the entity created or found

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def skipped(self) -> int:
        return sum(c.skipped for c in self.counts.values())


def load_entities(platform: Platform, principal: Principal, tenant_id: int,
                  drafts: Iterable[Draft | tuple[str, str, dict[str, Any]]]) -> LoadResult:
    """Create every draft whose natural key is new in the tenant, in one transaction.

    Passwords: each distinct password is hashed once, and every user given that password
    gets the same hash string. An argon2 hash embeds its salt, so those users share a
    salt, and anyone reading the hashes sees that they share a password. That is fine
    for demo and benchmark data only (argon2 costs tens of milliseconds a hash: 10,000
    agents with the demo password would otherwise take minutes). Real accounts loaded
    this way must each have their own password, so that each gets its own salt.
    """
    batch = [Draft(*d) for d in drafts]
    check_drafts(batch)
    tenant, region = open_tenant(platform, principal, tenant_id)
    _require_edit(principal, {ENTITY_TYPES[d.type].area for d in batch})
    hash_password = functools.cache(platform.passwords.hash)
    claimed: dict[str, int] = {}
    try:
        with region.db.write() as conn:
            repo = EntityRepo(conn, region.id_block)
            plan = batch_drafts(platform.settings, tenant.id, repo, batch, hash_password)
            guard_new(repo, tenant.id, principal, plan.entities)
            # Usernames are claimed in the directory before the users are committed, and
            # given back if the region write fails (as services.tenancy.usernames does for one user).
            _claim_usernames(platform, tenant, plan.usernames)
            claimed = plan.usernames
            _write(conn, repo, plan.entities, principal, tenant.id, plan.counts)
    except BaseException:
        _release_usernames(platform, tenant, claimed)
        raise
    return LoadResult(tenant.id, plan.counts, plan.ids)


def _require_edit(principal: Principal, areas: set[str]) -> None:
    for area in sorted(areas):
        if not principal.can(f"{area}.edit"):
            raise Forbidden(f"This needs the permission '{area}.edit'.", code="permission_denied",
                            details={"permission": f"{area}.edit"})


def _write(conn, repo: EntityRepo, new: list[Entity], principal: Principal,  # noqa: ANN001
           tenant_id: int, counts: dict[str, TypeCounts]) -> None:
    if not new:
        return
    try:
        for start in range(0, len(new), BATCH_SIZE):
            repo.insert_many(new[start:start + BATCH_SIZE])
    except IntegrityError:
        raise Conflict("Another writer created an entity with the same natural key during the load; "
                       "load again to skip it.", code="duplicate_natural_key") from None
    # One audit record per entity, as a single create writes: an auditor asks "who created
    # skill 123, when, with what values" of one entity, and finds the answer there. The
    # extra "bulk.load" record ties them together as one act with its counts.
    audit = AuditRepo(conn, region_audit)
    records = [{"actor": principal.actor, "action": f"{e.type}.create", "tenant_id": tenant_id,
                "entity_type": e.type, "entity_id": e.id, "after": audit_view(e), "details": {"via": "bulk.load"}}
               for e in new]
    for start in range(0, len(records), BATCH_SIZE):
        audit.record_many(records[start:start + BATCH_SIZE])
    audit.record(actor=principal.actor, action="bulk.load", tenant_id=tenant_id, details={
        "created": {t: c.created for t, c in counts.items()}, "skipped": {t: c.skipped for t, c in counts.items()},
    })


def _claim_usernames(platform: Platform, tenant: Tenant, user_ids: dict[str, int]) -> None:
    """Claim every new username in the login index, or none (``username_taken`` lists them)."""
    if not user_ids:
        return
    with platform.directory.write() as conn:
        index = LoginIndexRepo(conn)
        taken = OperatorRepo(conn).names_among(user_ids)
        for name, owner in index.owners(user_ids).items():
            if usernames.owner_exists(platform, conn, name, *owner):
                taken.add(name)
            else:
                index.release(name, *owner)  # left behind by a crashed write: take it over
        if taken:
            names = sorted(taken)
            raise Conflict(f"{len(names)} usernames are taken, e.g. {names[0]!r}.", code="username_taken",
                           details={"usernames": names[:MAX_REPORTED_ERRORS]})
        try:
            index.reserve_many(tenant.id, user_ids)
        except IntegrityError:
            raise Conflict("A username was claimed by another writer during the load; load again.",
                           code="username_taken") from None


def _release_usernames(platform: Platform, tenant: Tenant, user_ids: dict[str, int]) -> None:
    if not user_ids:
        return
    with platform.directory.write() as conn:
        index = LoginIndexRepo(conn)
        for name, user_id in user_ids.items():
            index.release(name, tenant.id, user_id)
