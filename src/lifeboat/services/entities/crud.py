"""Create, read, update and delete the configuration entities of a tenant (SPEC §2).

Every write is one unit of work in the tenant's region database, with its audit record.
Usernames are also claimed in the directory's login index (see ``services.tenancy.usernames``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from lifeboat.bootstrap import Platform
from lifeboat.config import Settings
from lifeboat.domain import json_limits
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import Entity, EntityType, entity_type, file_facts, prepare, validate
from lifeboat.domain.entity_rules import Limits
from lifeboat.domain.records import Tenant
from lifeboat.errors import Conflict, Invalid, NotFound
from lifeboat.services.entities.escalation import guard_write
from lifeboat.services.tenancy import usernames
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now
from lifeboat.store.units import RegionUnit


def list_entities(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    type_name: str,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
) -> tuple[list[Entity], int]:
    """A page in id order; ``search`` narrows to natural keys (name, username, path...) holding
    that text. The database pages and counts."""
    kind = entity_type(type_name)
    tenant, region = open_tenant(platform, principal, tenant_id, f"{kind.area}.view")
    with platform.region_unit(region, write=False) as uow:
        return uow.entities.page(tenant.id, kind.name, limit=limit, offset=offset, key_contains=search)


def get_entity(platform: Platform, principal: Principal, tenant_id: int, type_name: str, entity_id: int) -> Entity:
    kind = entity_type(type_name)
    tenant, region = open_tenant(platform, principal, tenant_id, f"{kind.area}.view")
    with platform.region_unit(region, write=False) as uow:
        return _must_get(uow.entities, tenant, kind, entity_id)


def get_business_unit(platform: Platform, principal: Principal, tenant_id: int) -> Entity:
    tenant, region = open_tenant(platform, principal, tenant_id, "acd.view")
    with platform.region_unit(region, write=False) as uow:
        found, _ = uow.entities.page(tenant.id, "business-unit", limit=1, offset=0)
    if not found:
        raise NotFound("This tenant has no business unit yet; PUT one.", code="entity_not_found")
    return found[0]


def create_entity(platform: Platform, principal: Principal, tenant_id: int, type_name: str, payload: Any) -> Entity:
    kind = entity_type(type_name)
    if kind.singleton:
        raise Conflict(f"{kind.name} is a singleton: use PUT.", code="singleton")
    tenant, region = open_tenant(platform, principal, tenant_id, f"{kind.area}.edit")
    data, content = _prepare(platform, kind, validate(kind, payload, limits=platform.json_limits()))

    def write(uow: RegionUnit) -> Entity:
        _check_links(uow.entities, tenant, kind, data)
        guard_write(uow.entities, tenant.id, principal, kind.name, None, data)
        return _insert(uow, principal, tenant, kind, data, content)

    return usernames.write_claiming(platform, tenant, kind, None, data, write)


UPDATE_ATTEMPTS = 5


class _Changed(Exception):
    """The entity changed between the read an update was checked against and its write."""


def update_entity(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    type_name: str,
    entity_id: int | None,
    payload: Any,
    *,
    replace_all: bool = False,
    expected_version: int | None = None,
) -> Entity:
    """PATCH (partial) an entity, or PUT the business unit (``entity_id`` None).

    The payload is checked over the entity as first read (outside the write transaction:
    hashing a password is slow). If another write changed the entity before this one
    holds it, the update starts again over the new version, so that no change is lost.
    With ``expected_version`` (a form edited over that version) a newer version is refused
    instead: the editor has not seen it (409 ``version_conflict``)."""
    kind = entity_type(type_name)
    for _ in range(UPDATE_ATTEMPTS):
        try:
            return _update(
                platform,
                principal,
                tenant_id,
                kind,
                entity_id,
                payload,
                replace_all=replace_all,
                expected_version=expected_version,
            )
        except _Changed:
            continue
    raise Conflict(
        f"{kind.name} {entity_id} kept changing while this update was applied; send it again.",
        code="concurrent_update",
        details={"type": kind.name, "id": entity_id},
    )


def _update(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    kind: EntityType,
    entity_id: int | None,
    payload: Any,
    *,
    replace_all: bool,
    expected_version: int | None = None,
) -> Entity:
    tenant, region = open_tenant(platform, principal, tenant_id, f"{kind.area}.edit")
    with platform.region_unit(region, write=False) as uow:
        current = _current(uow.entities, tenant, kind, entity_id)
    if expected_version is not None and _version(current) != expected_version:
        raise Conflict(
            f"This {kind.name} was changed by someone else after the form was opened.",
            code="version_conflict",
            details={"type": kind.name, "id": current.id if current else None, "version": _version(current)},
        )
    base = None if (replace_all or current is None) else current.data
    data, content = _prepare(platform, kind, validate(kind, payload, current=base, limits=platform.json_limits()))
    for secret in kind.stored_secrets:  # a password hash stays unless a new password replaced it
        if current is not None and secret in current.data and secret not in data:
            data[secret] = current.data[secret]

    def write(uow: RegionUnit) -> Entity:
        _check_links(uow.entities, tenant, kind, data)
        fresh = _current(uow.entities, tenant, kind, current.id if current else entity_id, lock=True)
        if _version(fresh) != _version(current):
            raise _Changed()
        guard_write(uow.entities, tenant.id, principal, kind.name, fresh.data if fresh else None, data)
        if fresh is None:
            return _insert(uow, principal, tenant, kind, data, content)
        return _replace(uow, principal, fresh, data, content)

    return usernames.write_claiming(platform, tenant, kind, current, data, write)


def _insert(
    uow: RegionUnit, principal: Principal, tenant: Tenant, kind: EntityType, data: dict[str, Any], content: bytes | None
) -> Entity:
    stamp = now()
    entity = Entity(uow.entities.new_ids()[0], tenant.id, kind.name, data, stamp, stamp, content)
    _save(uow.entities, entity, insert=True)
    uow.audit(principal.actor, f"{kind.name}.create", entity=entity, after=entity)
    return entity


def _replace(
    uow: RegionUnit, principal: Principal, fresh: Entity, data: dict[str, Any], content: bytes | None
) -> Entity:
    """Write ``data`` over ``fresh`` (its bytes kept unless new ones came); no write, and no
    audit record, when nothing changed."""
    content = content if content is not None else fresh.content
    if fresh.kind.has_content and content is not None:
        data.update(file_facts(content))  # size and checksum follow the kept bytes
    if data == fresh.data and content == fresh.content:
        return fresh
    entity = replace(fresh, data=data, content=content, updated_at=now())
    _save(uow.entities, entity, insert=False)
    uow.audit(principal.actor, f"{entity.type}.update", entity=entity, before=fresh, after=entity)
    return entity


def delete_entity(platform: Platform, principal: Principal, tenant_id: int, type_name: str, entity_id: int) -> None:
    kind = entity_type(type_name)
    if kind.singleton:
        raise Conflict(f"{kind.name} cannot be deleted.", code="singleton")
    tenant, region = open_tenant(platform, principal, tenant_id, f"{kind.area}.edit")
    with platform.region_unit(region) as uow:
        repo = uow.entities
        entity = _must_get(repo, tenant, kind, entity_id)
        guard_write(repo, tenant.id, principal, kind.name, entity.data, None)
        referrers = repo.referrers(tenant.id, kind.name, entity.id)
        dependents = [r for r in referrers if r[0] in kind.removed_with]
        blocking = [r for r in referrers if r not in dependents and r != (kind.name, entity.id)]
        if blocking:
            raise Conflict(
                f"{kind.name} {entity.id} is still referenced by {len(blocking)} entities; change them first.",
                code="entity_in_use",
                details={"referenced_by": [{"type": t, "id": i} for t, i in blocking[:50]]},
            )
        for dep_type, dep_id in dependents:
            dep = repo.get(tenant.id, dep_type, dep_id)
            repo.delete(tenant.id, dep_id)
            if dep is not None:  # listed as a referrer in this transaction: it exists
                uow.audit(principal.actor, f"{dep.type}.delete", entity=dep, before=dep)
        repo.delete(tenant.id, entity.id)
        uow.audit(principal.actor, f"{entity.type}.delete", entity=entity, before=entity)
    if kind.login_key is not None:
        usernames.release(platform, tenant, entity)


def _current(
    repo: EntityRepo, tenant: Tenant, kind: EntityType, entity_id: int | None, *, lock: bool = False
) -> Entity | None:
    """The entity to update, locked for this transaction with ``lock`` (the singleton by its
    id once known)."""
    if kind.singleton and entity_id is None:
        found, _ = repo.page(tenant.id, kind.name, limit=1, offset=0)
        return found[0] if found else None
    return _must_get(repo, tenant, kind, entity_id, lock=lock)


def _version(entity: Entity | None) -> int | None:
    return entity.version if entity is not None else None


def _must_get(
    repo: EntityRepo, tenant: Tenant, kind: EntityType, entity_id: int | None, *, lock: bool = False
) -> Entity:
    entity = repo.get(tenant.id, kind.name, entity_id, lock=lock) if entity_id is not None else None
    if entity is None:
        raise NotFound(
            f"{kind.name} {entity_id} does not exist in tenant {tenant.id}.",
            code="entity_not_found",
            details={"type": kind.name, "id": entity_id},
        )
    return entity


def _prepare(platform: Platform, kind: EntityType, data: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    return prepare_for_storage(platform.settings, kind, data, platform.passwords.hash)


def prepare_for_storage(
    settings: Settings, kind: EntityType, data: dict[str, Any], hash_password: Callable[[str], str]
) -> tuple[dict[str, Any], bytes | None]:
    """Turn validated fields into what is stored, by the type's own rule (hashes, file bytes,
    a checked script) within the configured limits.

    ``hash_password`` is a parameter so that a bulk load can hash each distinct password once.
    """
    return prepare(kind, data, storage_limits(settings), hash_password)


def storage_limits(settings: Settings) -> Limits:
    return Limits(
        max_file_bytes=settings.max_file_bytes,
        max_script_bytes=settings.max_script_bytes,
        max_json_depth=settings.max_json_depth,
    )


def _check_links(repo: EntityRepo, tenant: Tenant, kind: EntityType, data: dict[str, Any]) -> None:
    """Every reference must name an entity of the right type in the same tenant."""
    wanted = [(link, i) for link in kind.links for i in link.ids(data)]
    found = repo.types_of(tenant.id, [i for _, i in wanted])
    errors = [
        {
            "field": link.field,
            "code": "unknown_reference",
            "message": f"{link.target} {i} does not exist in this tenant",
        }
        for link, i in wanted
        if found.get(i) != link.target
    ]
    if errors:
        raise Invalid.fields(errors)


def _save(repo: EntityRepo, entity: Entity, *, insert: bool) -> None:
    clash = repo.by_key(entity.tenant_id, entity.type, entity.natural_key) if entity.kind.natural_key else None
    if clash is not None and clash.id != entity.id:
        raise Conflict(
            f"Another {entity.type} has the same {' + '.join(entity.kind.natural_key)} ({entity.natural_key}).",
            code="duplicate_natural_key",
            details={"type": entity.type, "existing_id": clash.id, "natural_key": entity.natural_key},
        )
    try:
        repo.insert(entity) if insert else repo.update(entity)
    except IntegrityError:
        raise Conflict(
            "Another entity with the same natural key was written at the same time.",
            code="duplicate_natural_key",
            details={"natural_key": entity.natural_key},
        ) from None


def audit_view(entity: Entity | None) -> dict[str, Any] | None:
    """What the audit log keeps of an entity: its fields, never a secret or file bytes."""
    if entity is None:
        return None
    return json_limits.readable(entity.kind.public(entity.data))[0]
