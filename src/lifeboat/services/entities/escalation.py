"""Applying the escalation rule (``domain.permissions``) to writes of roles and users.

Called inside the write transaction, after the entity is read (and locked) and its links
checked, so a refusal rolls everything back and what is judged is what is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lifeboat.domain.access import Principal
from lifeboat.domain.entities import Entity
from lifeboat.domain.permissions import CARRIERS, Escalation, escalation, is_stronger
from lifeboat.errors import Forbidden
from lifeboat.store.region import EntityRepo


def held_by(principal: Principal) -> frozenset[str] | None:
    """The permissions the rule measures against; None for an operator (exempt)."""
    return None if principal.is_operator else principal.permissions


def guard_write(
    repo: EntityRepo,
    tenant_id: int,
    principal: Principal,
    type_name: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Refuse (403 ``permission_escalation``) a write of a role or user that would reach
    or grant a permission the principal lacks. ``before``/``after`` are the entity's fields."""
    held = held_by(principal)
    if held is None or type_name not in CARRIERS:
        return
    refusal = escalation(
        held, before=carried(repo, tenant_id, type_name, before), after=carried(repo, tenant_id, type_name, after)
    )
    if refusal is not None:
        raise refused(refusal, type_name)


def guard_new(repo: EntityRepo, tenant_id: int, principal: Principal, new: list[Entity]) -> None:
    """The same rule for a bulk load: every new role and user, whose roles may be new too."""
    held = held_by(principal)
    if held is None:
        return
    new_roles = {e.id: e for e in new if e.type == "roles"}
    for entity in new:
        if entity.type in CARRIERS:
            refusal = escalation(held, before=None, after=carried(repo, tenant_id, entity.type, entity.data, new_roles))
            if refusal is not None:
                raise refused(refusal, entity.type)


def carried(
    repo: EntityRepo,
    tenant_id: int,
    type_name: str,
    data: Mapping[str, Any] | None,
    new_roles: Mapping[int, Entity] | None = None,
) -> frozenset[str] | None:
    """The permissions a role or user carries; a user's are its role's (active or not)."""
    if data is None:
        return None
    if type_name == "roles":
        return frozenset(data.get("permissions") or ())
    role_id = data.get("role_id")
    if role_id is None:
        return frozenset()
    role = (new_roles or {}).get(role_id) or repo.get(tenant_id, "roles", role_id)
    return frozenset(role.data.get("permissions") or ()) if role is not None else frozenset()


def stronger_user(roles: Mapping[int, frozenset[str]], user: Entity, held: frozenset[str] | None) -> bool:
    """Whether ``user`` carries a permission outside ``held`` (``roles``: role id -> permissions)."""
    if held is None:
        return False
    role_id = user.data.get("role_id")
    return is_stronger(roles.get(role_id, frozenset()) if role_id is not None else frozenset(), held)


def refused(refusal: Escalation, type_name: str) -> Forbidden:
    return Forbidden(
        refusal.message,
        code="permission_escalation",
        details={
            "type": type_name,
            "reason": refusal.reason,
            "missing_permissions": list(refusal.missing),
        },
    )
