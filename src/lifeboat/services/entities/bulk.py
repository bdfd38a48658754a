"""Load many entities into one tenant at once (the demo contact center, the benchmark).

``load_entities(platform, principal, tenant_id, drafts)`` takes drafts ``(type, local key,
payload)`` whose payloads may name each other with ``Ref("role:admin")`` (see
``services.entities.drafts``). Drafts whose natural key exists already in the tenant are skipped, so
loading the same drafts twice adds nothing. Everything new is written in ONE transaction of
the tenant's region, with its audit records: the whole load is there, or none of it. When
any draft is invalid nothing is written and ``Invalid`` lists every problem.

New usernames are claimed in the directory's login index before the users are written, and
given back if the region write fails (``services.spanning.write_across``). Their ids come
from the plan, so the plan is made (and its ids taken) in a region unit of its own first.
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
from lifeboat.domain.records import Tenant
from lifeboat.errors import Conflict, Forbidden
from lifeboat.services.entities.crud import audit_view
from lifeboat.services.entities.drafts import MAX_REPORTED_ERRORS, Draft, Ref, TypeCounts, batch_drafts, check_drafts
from lifeboat.services.entities.escalation import guard_new
from lifeboat.services.spanning import write_across
from lifeboat.services.tenancy import usernames
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.units import DirectoryUnit, RegionUnit

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


def load_entities(
    platform: Platform, principal: Principal, tenant_id: int, drafts: Iterable[Draft | tuple[str, str, dict[str, Any]]]
) -> LoadResult:
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
    with platform.region_unit(region) as uow:
        plan = batch_drafts(platform.settings, tenant.id, uow.entities, batch, hash_password)
        guard_new(uow.entities, tenant.id, principal, plan.entities)
        if not plan.usernames:  # nothing to claim: the plan's unit writes it all
            _write(uow, plan.entities, principal, tenant.id, plan.counts)
    if plan.usernames:
        _write_with_usernames(platform, principal, tenant, plan.entities, plan.counts, plan.usernames)
    return LoadResult(tenant.id, plan.counts, plan.ids)


def _write_with_usernames(
    platform: Platform,
    principal: Principal,
    tenant: Tenant,
    new: list[Entity],
    counts: dict[str, TypeCounts],
    user_ids: dict[str, int],
) -> None:
    """Claim the new usernames (``user_ids``: name -> id of the user to write), write the
    load, or give the names back if it fails.

    The plan's unit has committed only its ids; the escalation rule is applied again in
    the write's own transaction, so that what is judged is what is written."""

    def claim(uow: DirectoryUnit) -> dict[str, int]:
        usernames.claim_many(platform, uow, tenant, user_ids, shown=MAX_REPORTED_ERRORS)
        return user_ids

    def write(uow: RegionUnit, claimed: dict[str, int]) -> None:
        guard_new(uow.entities, tenant.id, principal, new)
        _write(uow, new, principal, tenant.id, counts)

    def give_back(uow: DirectoryUnit, claimed: dict[str, int]) -> None:
        usernames.give_back_many(uow, tenant, claimed)

    write_across(platform, platform.region(tenant.region), claim=claim, write=write, give_back=give_back)


def _require_edit(principal: Principal, areas: set[str]) -> None:
    for area in sorted(areas):
        if not principal.can(f"{area}.edit"):
            raise Forbidden(
                f"This needs the permission '{area}.edit'.",
                code="permission_denied",
                details={"permission": f"{area}.edit"},
            )


def _write(
    uow: RegionUnit, new: list[Entity], principal: Principal, tenant_id: int, counts: dict[str, TypeCounts]
) -> None:
    if not new:
        return
    try:
        for start in range(0, len(new), BATCH_SIZE):
            uow.entities.insert_many(new[start : start + BATCH_SIZE])
    except IntegrityError:
        raise Conflict(
            "Another writer created an entity with the same natural key during the load; load again to skip it.",
            code="duplicate_natural_key",
        ) from None
    # One audit record per entity, as a single create writes: an auditor asks "who created
    # skill 123, when, with what values" of one entity, and finds the answer there. The
    # extra "bulk.load" record ties them together as one act with its counts.
    uow.audit_many(
        [
            {
                "actor": principal.actor,
                "action": f"{e.type}.create",
                "tenant_id": tenant_id,
                "entity_type": e.type,
                "entity_id": e.id,
                "after": audit_view(e),
                "details": {"via": "bulk.load"},
            }
            for e in new
        ]
    )
    uow.audit(
        principal.actor,
        "bulk.load",
        tenant_id=tenant_id,
        details={
            "created": {t: c.created for t, c in counts.items()},
            "skipped": {t: c.skipped for t, c in counts.items()},
        },
    )
