"""Failback (SPEC §14): what administrators changed in the BCP tenant since the last switch
to it, and copying chosen changes back into the primary.

The report is ``domain.failback.report`` over what the stores keep: the last switch to BCP
(directory), the correlations and the BCP entities (BCP region), the primary counterparts
(primary region, so the report needs it up).

Applying an item is two short transactions: the primary entity is written (and audited) in
the primary region, then its correlation in the BCP region records both versions, so the
next sync finds the pair equal and leaves it alone (a created BCP entity gets a correlation,
so the sync adopts it rather than copying the primary entity a second time). An item that
cannot be applied fails alone, with the error's code, and writes nothing in the primary.
The two transactions are in two databases: when the second fails, the next apply of the
same created item adopts the primary entity the first wrote (see ``_correlate``).

A script's content is translated back like its fields: each id of a correlated BCP entity
becomes the primary's; an id of a BCP-only entity fails the item (apply that entity first).
Users are copied field by field, deactivated and deleted; a created or renamed user is not,
because its username belongs to the BCP tenant in the directory's login index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain import failback
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, Entity
from lifeboat.domain.failback import FailbackItem
from lifeboat.domain.graph import type_order
from lifeboat.domain.records import Side
from lifeboat.errors import Conflict, Forbidden, Invalid, LifeboatError, NotFound
from lifeboat.services.bcp.pairing import PairedTenants, open_bcp_plan
from lifeboat.services.tenancy import usernames
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now
from lifeboat.store.units import RegionUnit

VIEW_PERMISSION = "bcp.sync.view"
APPLY_PERMISSION = "bcp.sync.edit"  # and "<area>.edit" of each item's type
MAX_ITEMS = 1000


def failback_report(platform: Platform, principal: Principal, tenant_id: int) -> list[FailbackItem]:
    """Every BCP entity created, changed, deactivated or deleted since the last switch to
    BCP (none if there never was one); ``tenant_id`` is either tenant of the plan."""
    return _report(platform, open_bcp_plan(platform, principal, tenant_id, VIEW_PERMISSION))


def _report(platform: Platform, tenants: PairedTenants) -> list[FailbackItem]:
    with platform.directory_unit(write=False) as uow:
        switched_at = uow.switch_attempts.last_switched_to(tenants.plan.id, Side.BCP)
    if switched_at is None:
        return []
    with platform.region_unit(tenants.bcp_region, write=False, snapshot=True) as uow:
        correlations = uow.correlations(tenants.bcp.id).all()
        bcp = {e.id: e for e in uow.entities.all_of(tenants.bcp.id, with_content=False)}
    # Only the counterparts of BCP entities that moved since the sync are compared.
    moved = [c.primary_id for c in correlations if c.bcp_id not in bcp or bcp[c.bcp_id].version != c.bcp_version]
    with platform.region_unit(tenants.primary_region, write=False) as uow:
        primary = uow.entities.many(tenants.primary.id, moved)
    return failback.report(bcp, primary, correlations, switched_at)


def referenced_names(
    platform: Platform, principal: Principal, tenant_id: int, items: list[FailbackItem]
) -> dict[int, str]:
    """The names of the BCP entities that the items' reference fields point at, before and
    after (both are in BCP ids), so that a person reads "Standard hours", not an id. An id
    with no entity behind it (deleted since) is left out."""
    tenants = open_bcp_plan(platform, principal, tenant_id, VIEW_PERMISSION)
    wanted: set[int] = set()
    for item in items:
        links = {link.field: link for link in ENTITY_TYPES[item.type].links}
        for change in item.changes:
            link = links.get(change["field"])
            if link is None:
                continue
            for value in (change["before"], change["after"]):
                wanted.update(link.ids({link.field: value}) if value is not None else ())
    if not wanted:
        return {}
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        found = uow.entities.many(tenants.bcp.id, wanted)
    return {entity_id: entity.natural_key for entity_id, entity in found.items()}


def apply_failback(platform: Platform, principal: Principal, tenant_id: int, payload: object) -> list[dict[str, Any]]:
    """Copy the chosen items into the primary, each in its own transaction; one result per
    asked id, in the order asked. Referenced items go first, deletions last."""
    tenants = open_bcp_plan(platform, principal, tenant_id, APPLY_PERMISSION)
    wanted = _item_ids(payload)
    found = {item.id: item for item in _report(platform, tenants)}
    results = {
        i: _failed(i, NotFound("No such change in the failback report.", code="failback_item_not_found"))
        for i in wanted
        if i not in found
    }
    for item in sorted((found[i] for i in wanted if i in found), key=_apply_order):
        results[item.id] = _apply_one(platform, principal, tenants, item)
    return [results[i] for i in wanted]


def _item_ids(payload: object) -> list[str]:
    items = payload.get("items") if isinstance(payload, dict) else None
    extra = [k for k in payload if k != "items"] if isinstance(payload, dict) else []
    if (
        extra
        or not isinstance(items, list)
        or not items
        or len(items) > MAX_ITEMS
        or not all(isinstance(i, str) for i in items)
    ):
        raise Invalid.fields(
            [{"field": "items", "code": "invalid", "message": f"must be a list of 1 to {MAX_ITEMS} failback item ids"}]
        )
    return list(dict.fromkeys(items))


def _apply_order(item: FailbackItem) -> tuple[int, int]:
    rank = type_order().index(item.type)
    return (1, -rank) if item.action == "deleted" else (0, rank)


def _apply_one(platform: Platform, principal: Principal, tenants: PairedTenants, item: FailbackItem) -> dict[str, Any]:
    try:
        _check_allowed(principal, item)
        limits = _limits(platform, tenants)
        bcp = _bcp_side(platform, tenants, item, limits)
        with platform.region_unit(tenants.primary_region) as uow:
            primary_id, version, removed = _write_primary(uow, principal, tenants, item, bcp, limits)
        if removed is not None:
            usernames.release(platform, tenants.primary, removed)  # a deleted user's name is free again
        _correlate(platform, tenants, item, bcp.entity, primary_id, version)
    except LifeboatError as exc:
        return _failed(item.id, exc)
    return {"id": item.id, "status": "applied", "error": None, "primary_id": primary_id}


def _correlate(
    platform: Platform, tenants: PairedTenants, item: FailbackItem, entity: Entity | None, primary_id: int, version: int
) -> None:
    """Record the pair in the BCP region. The regions are two databases, so this cannot share
    the primary's transaction: if it fails, a created entity is left without its correlation,
    the BCP entity stays reported as created, and applying it again adopts the primary entity
    (same natural key, no correlation) instead of refusing it as a duplicate."""
    with platform.region_unit(tenants.bcp_region) as uow:
        repo = uow.correlations(tenants.bcp.id)
        if entity is None:
            repo.remove_many([(item.type, primary_id)])
        else:
            row = {"type": item.type, "primary_id": primary_id, "bcp_id": item.bcp_id}
            repo.put_many([{**row, "primary_version": version, "bcp_version": entity.version, "notes": None}])


def _failed(item_id: str, exc: LifeboatError) -> dict[str, Any]:
    error = {"code": exc.code, "message": exc.message, "details": exc.details}
    return {"id": item_id, "status": "failed", "error": error, "primary_id": None}


def _check_allowed(principal: Principal, item: FailbackItem) -> None:
    kind = ENTITY_TYPES[item.type]
    permission = f"{kind.area}.edit"
    if not principal.can(permission):
        raise Forbidden(
            f"Copying {item.type} into the primary needs the permission {permission!r}.",
            code="permission_denied",
            details={"permission": permission},
        )
    # A username is unique across tenants: the directory's login index gives a name created
    # or taken in the BCP tenant to the BCP tenant. Moving it to the primary would span the
    # directory and both regions, so those are done by hand; a user's other fields, its
    # deactivation and its deletion (which frees the primary's name) are copied.
    if kind.login_key and item.action == "created":
        raise Conflict(
            f"A created {item.type} is not copied back: usernames are unique across tenants and the login index "
            "gives this one to the BCP tenant; create the user in the primary by hand.",
            code="failback_not_supported",
            details={"type": item.type, "action": item.action},
        )


@dataclass(frozen=True)
class _BcpSide:
    """BCP id -> primary id and BCP id -> type for every correlation (as they are now: an
    item applied a moment ago counts), and the BCP entity with its bytes (None: deleted)."""

    to_primary: dict[int, int]
    types: dict[int, str]
    entity: Entity | None


@dataclass(frozen=True)
class _Limits:
    remap_free_text: bool
    max_script_bytes: int
    max_depth: int


def _limits(platform: Platform, tenants: PairedTenants) -> _Limits:
    settings = tenants.plan.sync_settings
    return _Limits(
        bool(settings.get("remap_free_text")), platform.settings.max_script_bytes, platform.json_limits().max_depth
    )


def _bcp_side(platform: Platform, tenants: PairedTenants, item: FailbackItem, limits: _Limits) -> _BcpSide:
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        correlations = uow.correlations(tenants.bcp.id).all()
        entity = uow.entities.get(tenants.bcp.id, item.type, item.bcp_id) if item.action != "deleted" else None
        if entity is not None and entity.kind.content_targets:  # a script may name BCP-only entities
            unknown = failback.content_ids(entity.data, limits.max_script_bytes, limits.max_depth) - {
                c.bcp_id for c in correlations
            }
            bcp_only = uow.entities.types_of(tenants.bcp.id, sorted(unknown)) if unknown else {}
        else:
            bcp_only = {}
    if item.action != "deleted" and entity is None:
        raise NotFound(
            f"{item.type} {item.bcp_id} is gone from the BCP tenant.",
            code="entity_not_found",
            details={"type": item.type, "id": item.bcp_id},
        )
    types = {**bcp_only, **{c.bcp_id: c.type for c in correlations}}
    return _BcpSide({c.bcp_id: c.primary_id for c in correlations}, types, entity)


def _write_primary(
    uow: RegionUnit,
    principal: Principal,
    tenants: PairedTenants,
    item: FailbackItem,
    bcp: _BcpSide,
    limits: _Limits,
) -> tuple[int, int, Entity | None]:
    """The primary entity's id, its new version (0 once deleted), and the entity deleted."""
    repo, tenant_id, entity = uow.entities, tenants.primary.id, bcp.entity
    current = repo.get(tenant_id, item.type, item.primary_id, lock=True) if item.primary_id is not None else None
    details = {"failback_item": item.id, "bcp_tenant_id": tenants.bcp.id, "bcp_id": item.bcp_id}
    if entity is None:
        if current is not None:
            _delete(uow, principal, current, details)
        assert item.primary_id is not None  # a deleted item is a correlated one
        return item.primary_id, 0, current
    if item.primary_id is not None and current is None:
        raise NotFound(
            f"The primary's {item.type} {item.primary_id} is gone.",
            code="entity_not_found",
            details={"type": item.type, "id": item.primary_id},
        )
    data = _primary_fields(repo, tenant_id, entity, bcp, limits)
    stamp = now()
    if current is None:
        current = _uncorrelated_namesake(repo, tenant_id, entity.type, data, bcp)
    if current is None:
        written = Entity(repo.new_ids()[0], tenant_id, item.type, data, stamp, stamp, entity.content)
        _refuse_key_clash(repo, written)
        repo.insert(written)
        uow.audit(principal.actor, f"{item.type}.failback_create", entity=written, after=written, details=details)
        return written.id, written.version, None
    written = replace(current, data=data, content=entity.content, updated_at=stamp)
    if written.kind.login_key and written.natural_key != current.natural_key:  # claimed in the directory's index
        raise Conflict(
            f"A renamed {item.type} is not copied back: usernames are unique across tenants and the login index "
            f"gives {written.natural_key!r} to the BCP tenant; rename the user in the primary by hand.",
            code="failback_not_supported",
            details={"type": item.type, "action": "renamed"},
        )
    _refuse_key_clash(repo, written)
    if written.data == current.data and written.content == current.content:
        return current.id, current.version, None  # already there: an apply whose correlation was not written
    version = repo.update(written)
    uow.audit(
        principal.actor, f"{item.type}.failback_update", entity=written, before=current, after=written, details=details
    )
    return written.id, version, None


def _uncorrelated_namesake(
    repo: EntityRepo, tenant_id: int, type_name: str, data: dict[str, Any], bcp: _BcpSide
) -> Entity | None:
    """The primary entity a created item lands on instead of a new one: the same natural key
    and no correlation, as the sync adopts one. That is also the entity an earlier apply
    wrote when its correlation could not be written."""
    kind = ENTITY_TYPES[type_name]
    if not kind.natural_key:
        return None
    namesake = repo.by_key(tenant_id, type_name, kind.key_of(data))
    if namesake is None or namesake.id in set(bcp.to_primary.values()):
        return None
    return repo.get(tenant_id, type_name, namesake.id, lock=True)


def _primary_fields(repo: EntityRepo, tenant_id: int, entity: Entity, bcp: _BcpSide, limits: _Limits) -> dict[str, Any]:
    data, missing = failback.to_primary(entity, bcp.to_primary)
    if not missing:  # correlated, but the primary counterpart may have been deleted meanwhile
        found = repo.types_of(tenant_id, [i for link in entity.kind.links for i in link.ids(data)])
        missing = [
            {"field": link.field, "target": link.target, "primary_id": i}
            for link in entity.kind.links
            for i in link.ids(data)
            if found.get(i) != link.target
        ]
    if entity.kind.content_targets and not missing:
        data, unresolved = failback.script_to_primary(
            data,
            bcp.to_primary,
            {i: t for i, t in bcp.types.items() if i in bcp.to_primary},
            remap_free_text=limits.remap_free_text,
            max_bytes=limits.max_script_bytes,
            max_depth=limits.max_depth,
        )
        missing = [r for r in unresolved if bcp.types.get(r["bcp_id"]) == r["target"]]  # BCP-only entities
    if missing:
        raise Conflict(
            f"{entity.type} {entity.natural_key!r} refers to entities that have no primary counterpart; "
            "apply those first or change the reference.",
            code="no_primary_counterpart",
            details={"references": missing},
        )
    return data


def _refuse_key_clash(repo: EntityRepo, entity: Entity) -> None:
    clash = repo.by_key(entity.tenant_id, entity.type, entity.natural_key) if entity.kind.natural_key else None
    if clash is not None and clash.id != entity.id:
        raise Conflict(
            f"The primary already has another {entity.type} named {entity.natural_key!r}.",
            code="duplicate_natural_key",
            details={"type": entity.type, "existing_id": clash.id, "natural_key": entity.natural_key},
        )


def _delete(uow: RegionUnit, principal: Principal, current: Entity, details: dict[str, Any]) -> None:
    repo = uow.entities
    referrers = repo.referrers(current.tenant_id, current.type, current.id)
    blocking = [r for r in referrers if r != (current.type, current.id)]
    if blocking:
        raise Conflict(
            f"The primary's {current.type} {current.id} is still referenced by {len(blocking)} entities.",
            code="entity_in_use",
            details={"referenced_by": [{"type": t, "id": i} for t, i in blocking[:50]]},
        )
    repo.delete(current.tenant_id, current.id)
    uow.audit(principal.actor, f"{current.type}.failback_delete", entity=current, before=current, details=details)
